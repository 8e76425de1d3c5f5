package sshd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/internal/ops"
)

// sessionEnv returns the value of an environment variable the client set.
func sessionEnv(sess ssh.Session, key string) (string, bool) {
	for _, kv := range sess.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// handleSession serves a session with a command (exec), or with none: the
// terminal UI on a terminal, else the help text.
func (s *Server) handleSession(sess ssh.Session) {

	if sess.RawCommand() == "" {
		if _, _, isPty := sess.Pty(); isPty && s.cfg.TUI != nil {
			s.cfg.TUI(sess)
			return
		}
		io.WriteString(sess, ops.HelpText())
		sess.Exit(0)
		return
	}
	if argv, ok := SCPCommand(sess.RawCommand()); ok {
		sess.Exit(s.scp(sess, argv)) // legacy scp (scp -O): sshd/scp.go
		return
	}
	code := s.exec(sess.Context(), sess)
	sess.Exit(code)
}

func (s *Server) exec(ctx context.Context, sess ssh.Session) int {
	cl := &ops.Call{
		User:      sess.User(),
		Addr:      sess.RemoteAddr().String(),
		Transport: "exec",
		Settings:  sessionSettings(sess),
		In:        sess,
		Out:       sess,
		Size:      -1,
		Confirm:   func() error { return confirmOpen(sess) },
	}
	return s.ops.Exec(ctx, sess.RawCommand(), cl, sess.Stderr())
}

// confirmOpen tells a clean end of input from a dropped client. Both look
// the same to a reader of the channel (io.EOF); only a live client answers
// a request that wants a reply.
func confirmOpen(sess ssh.Session) error {
	_, err := sess.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil {
		return fmt.Errorf("client gone before the end of its input: %w", err)
	}
	return nil
}
