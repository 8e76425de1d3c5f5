package sshd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/internal/printable"
)

// A bug in one session's handler must not take every user's transfers down
// with the process. A panic ends the process from whatever goroutine it is
// on, and the handlers run on goroutines of their own: gliderlabs starts one
// per session, pkg/sftp several per SFTP session. So the session wrapper
// (limited) recovers around each session, and every method pkg/sftp calls
// recovers for itself (sftp_*.go), turning the panic into an error status
// for that request.

// errInternal is what a client is told of a recovered panic.
var errInternal = errors.New("internal error")

// logPanic logs a recovered panic with its stack, for the operator.
func (s *Server) logPanic(ctx context.Context, v any, attrs ...any) {
	attrs = append(attrs, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	s.log.ErrorContext(ctx, "recovered from a panic", attrs...)
}

// recoverSession, deferred around a session handler, ends the session
// whose handler panicked, with exit status 1, and leaves the others be.
func (s *Server) recoverSession(sess ssh.Session) {
	v := recover()
	if v == nil {
		return
	}
	kind := sess.Subsystem()
	switch {
	case kind != "":
	case sess.RawCommand() == "":
		kind = "shell"
	default:
		kind = "exec" // not the command line: it may hold a password
	}
	s.logPanic(sess.Context(), v, "user", sess.User(), "addr", sess.RemoteAddr().String(), "session", kind)
	fmt.Fprintln(sess.Stderr(), "sshelf: internal error")
	// Before gliderlabs' own Exit(0) once the handler returns.
	sess.Exit(1)
}

// catch, deferred first in a method pkg/sftp calls, turns a panic into an
// error status for the request, in *errp.
func (fs *sftpSession) catch(op string, errp *error) {
	if v := recover(); v != nil {
		fs.panicked(v, op)
		*errp = sftpError(errInternal)
	}
}

func (fs *sftpSession) panicked(v any, op string) {
	fs.srv.logPanic(fs.ctx, v, "user", fs.user, "addr", fs.addr, "transport", "sftp", "op", op)
}

// catch is sftpSession.catch for an open upload: after a panic it is never
// committed, and a panic in Close discards it there and then (pkg/sftp has
// forgotten the handle: nothing closes it later).
func (u *sftpUpload) catch(op string, errp *error) {
	v := recover()
	if v == nil {
		return
	}
	u.fs.panicked(v, op)
	*errp = sftpError(errInternal)
	u.mu.Lock()
	u.failed = errInternal
	u.mu.Unlock()
	if op == "close" {
		func() {
			defer func() { _ = recover() }() // logged above; a second panic here must not escape
			u.up.Abort()
		}()
	}
}

// recoverAuth, deferred in an authentication callback (they run on the
// connection's goroutine, where a panic would end the process), refuses
// that attempt and lets the connection go on to its next one or close.
func (s *Server) recoverAuth(ctx ssh.Context, method string, ok *bool) {
	v := recover()
	if v == nil {
		return
	}
	s.logPanic(ctx, v, "user", printable.String(ctx.User()), "addr", ctx.RemoteAddr().String(), "method", method)
	*ok = false
}
