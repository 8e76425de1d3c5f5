package sshd

import (
	"context"
	"io"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/internal/ops"
)

// result is what one SFTP or scp operation did, for the log.
type result struct {
	bytes  int64
	sha256 string
}

func copyBuffered(dst io.Writer, src io.Reader) (int64, error) { return ops.CopyBuffered(dst, src) }

// sessionSettings reads the session's environment as the rules mean it
// (internal/ops decides what each variable means, for every transport).
func sessionSettings(sess ssh.Session) ops.Settings {
	return ops.SettingsFrom(func(key string) (string, bool) { return sessionEnv(sess, key) })
}

// report tells the observer of an SFTP or scp operation: the same audit
// event as the commands of exec and the subsystem.
func (s *Server) report(ctx context.Context, user, addr, transport, op, name string, res result, err error, start time.Time) {
	s.ops.Report(ctx, ops.Event{
		User: user, Addr: addr, Transport: transport, Command: op, Name: name,
		Bytes: res.bytes, SHA256: res.sha256, Err: err, Elapsed: time.Since(start),
	})
}
