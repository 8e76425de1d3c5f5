package sshd

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gliderlabs/ssh"
)

// exitingSession is what limited needs of a session, with an Exit that
// reports to the test when the exit status would go out.
type exitingSession struct {
	ssh.Session
	ctx    ssh.Context
	onExit func()
}

func (s exitingSession) Context() ssh.Context { return s.ctx }
func (s exitingSession) User() string         { return "alice" }
func (s exitingSession) RemoteAddr() net.Addr { return s.ctx.RemoteAddr() }
func (s exitingSession) Exit(code int) error  { s.onExit(); return nil }
func (s exitingSession) Subsystem() string    { return "" }
func (s exitingSession) RawCommand() string   { return "ls" }

// A session gives its slot back before its exit status goes out, so a
// client that starts its next command as soon as one ends is not refused
// by a slot still held (a user allowed one session, on a cluster, was).
func TestSessionSlotFreeWhenExitStatusGoesOut(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler), cfg: Config{Hooks: noHooks{}},
		sessions: newSessionLimiter(0, 1, 0, nil)}
	var nextErr error
	exited := false
	sess := exitingSession{ctx: &authContext{Context: context.Background()}, onExit: func() {
		exited = true
		var release func()
		release, nextErr = s.sessions.acquire(context.Background(), "alice", "127.0.0.1")
		if nextErr == nil {
			release()
		}
	}}
	handler := s.limited(func(sessionInfo) string { return "exec" }, func(sess ssh.Session) { sess.Exit(0) }, refuseOnStderr)
	handler(sess)
	if !exited {
		t.Fatal("the handler's exit did not reach the session")
	}
	if nextErr != nil {
		t.Errorf("a session started as the exit status went out: %v, want the slot free", nextErr)
	}
}

// stuckCounter is a shared counter whose catalog stops answering once a
// session has its slot: giving it back hangs until unstuck.
type stuckCounter struct{ unstuck chan struct{} }

func (c stuckCounter) Acquire(context.Context, string, string, int, int) (func(), error) {
	return func() { <-c.unstuck }, nil
}

// A release that hangs holds the exit status back by releaseWait only.
func TestSessionExitsWhenReleaseHangs(t *testing.T) {
	c := stuckCounter{unstuck: make(chan struct{})}
	s := &Server{log: slog.New(slog.DiscardHandler), cfg: Config{Hooks: noHooks{}},
		sessions: newSessionLimiter(0, 1, 0, c)}
	exited := make(chan struct{})
	sess := exitingSession{ctx: &authContext{Context: context.Background()}, onExit: func() { close(exited) }}
	handler := s.limited(func(sessionInfo) string { return "exec" }, func(sess ssh.Session) { sess.Exit(0) }, refuseOnStderr)
	done := make(chan struct{})
	go func() { defer close(done); handler(sess) }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit status while the release hangs")
	}
	close(c.unstuck)
	<-done
}
