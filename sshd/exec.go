package sshd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/internal/printable"
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
		io.WriteString(sess, HelpText())
		sess.Exit(0)
		return
	}
	if argv, ok := scpCommand(sess.RawCommand()); ok {
		sess.Exit(s.scp(sess, argv)) // legacy scp (scp -O): sshd/scp.go
		return
	}
	code := s.exec(sess.Context(), sess)
	sess.Exit(code)
}

func (s *Server) exec(ctx context.Context, sess ssh.Session) int {
	start := time.Now()
	argv, err := SplitWords(sess.RawCommand())
	var c Command
	if err == nil {
		c, err = ParseCommand(argv)
	} else {
		err = &UsageError{Msg: "cannot split the command line: " + err.Error()}
	}
	if err != nil && len(argv) > 0 {
		c.Name = argv[0]
	}
	envPassword, _ := sessionEnv(sess, "SSHELF_FILE_PASSWORD")
	cl := &call{
		user:        sess.User(),
		addr:        sess.RemoteAddr().String(),
		transport:   "exec",
		envPassword: envPassword,
		in:          sess,
		out:         sess,
		size:        -1,
		confirm:     func() error { return confirmOpen(sess) },
	}
	var res result
	if err == nil {
		res, err = s.run(ctx, c, cl)
	}
	if err != nil {
		fmt.Fprintln(sess.Stderr(), errorLine(c, err))
	}
	s.audit(ctx, cl, c, res, err, start)
	return exitCode(err)
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

// audit logs one line per operation: never a password. What a client
// chose (its command word, a file name, text quoted in a reason) is
// escaped before it reaches the handler: the JSON handler would write C1
// controls and format characters raw, and an operator reads the log in a
// terminal.
func (s *Server) audit(ctx context.Context, cl *call, c Command, res result, err error, start time.Time) {
	outcome := "ok"
	if err != nil {
		outcome = reason(err)
	}
	attrs := []any{
		"user", printable.String(cl.user), "addr", cl.addr, "transport", cl.transport,
		"command", printable.String(c.Name),
		"bytes", res.bytes, "result", printable.Line(outcome), "ms", time.Since(start).Milliseconds(),
	}
	if c.File != "" {
		attrs = append(attrs, "name", printable.String(c.File))
	}
	if res.sha256 != "" {
		attrs = append(attrs, "sha256", res.sha256)
	}
	if err != nil && outcome == "internal error" {
		// The detail is for the operator; the user saw only "internal error".
		attrs = append(attrs, "err", printable.Line(err.Error()))
	}
	s.log.InfoContext(ctx, "op", attrs...)
}
