package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/clientaddr"
	"github.com/sshelf/sshelf/internal/sessions"
	"github.com/sshelf/sshelf/sshd/framing"
)

// Each refusal says which limit was hit, so a user knows whether waiting
// or another account or address would help.
var (
	errTooManySessions        = errors.New("too many sessions, try again later")
	errTooManySessionsForUser = sessions.ErrTooManyForUser
	errTooManySessionsForAddr = sessions.ErrTooManyForAddr
	// errSessionsUncounted is what a client hears when the shared counter
	// fails; the log has the cause.
	errSessionsUncounted = errors.New("sessions cannot be counted now, try again later")
)

// sessionLimiter bounds concurrent sessions in total, per account and per
// client address: with open signup accounts are free, so only the address
// keeps one client from taking every slot. With a shared counter the
// account and address bounds hold across every server sharing it; the
// total stays this process's own, its capacity.
type sessionLimiter struct {
	max, perUser, perAddr int
	shared                sessions.Counter // nil: accounts and addresses counted here

	mu     sync.Mutex
	total  int
	byUser counter
	byAddr counter
}

func newSessionLimiter(max, perUser, perAddr int, shared sessions.Counter) *sessionLimiter {
	return &sessionLimiter{max: max, perUser: perUser, perAddr: perAddr, shared: shared,
		byUser: counter{}, byAddr: counter{}}
}

// acquire takes a slot for user at addr, or fails; release gives it back.
func (l *sessionLimiter) acquire(ctx context.Context, user, addr string) (release func(), err error) {
	if l.shared == nil {
		return l.acquireHere(user, addr)
	}
	return l.acquireShared(ctx, user, addr)
}

// acquireShared takes a slot of this process's total, then one in the
// shared counter; a full total refuses before the catalog is asked.
func (l *sessionLimiter) acquireShared(ctx context.Context, user, addr string) (func(), error) {
	l.mu.Lock()
	if atLimit(l.total, l.max) {
		l.mu.Unlock()
		return nil, errTooManySessions
	}
	l.total++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		l.total--
		l.mu.Unlock()
	}
	releaseShared := func() {}
	if l.perUser > 0 || l.perAddr > 0 {
		r, err := l.shared.Acquire(ctx, user, addr, l.perUser, l.perAddr)
		if err != nil {
			done()
			return nil, err
		}
		releaseShared = r
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			releaseShared()
			done()
		})
	}, nil
}

// acquireHere counts everything in this process.
func (l *sessionLimiter) acquireHere(user, addr string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.byAddr.full(addr, l.perAddr):
		return nil, errTooManySessionsForAddr
	case l.byUser.full(user, l.perUser):
		return nil, errTooManySessionsForUser
	case atLimit(l.total, l.max):
		return nil, errTooManySessions
	}
	l.total++
	l.byUser.add(user)
	l.byAddr.add(addr)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			l.byUser.done(user)
			l.byAddr.done(addr)
		})
	}, nil
}

// sessionAddr is the client host of sess, as the connection recorded it.
func sessionAddr(sess ssh.Session) string {
	if a := clientaddr.From(sess.Context()); a != "" {
		return a
	}
	return clientaddr.Host(sess.RemoteAddr().String())
}

// limited wraps a session handler in the session limits, so that no way in
// can forget them; refuse tells a refused client why, in its own framing.
// transport names the session's way in for Hooks.SessionStarted.
func (s *Server) limited(transport func(sessionInfo) string, h ssh.Handler, refuse func(ssh.Session, error)) ssh.Handler {
	return func(sess ssh.Session) {
		release, err := s.sessions.acquire(sess.Context(), sess.User(), sessionAddr(sess))
		if err != nil {
			public := sessionRefusal(err)
			level := slog.LevelInfo
			if public == errSessionsUncounted {
				level = slog.LevelError
			}
			s.log.Log(sess.Context(), level, "session refused", "user", sess.User(), "addr", sess.RemoteAddr().String(), "reason", err.Error())
			refuse(sess, public)
			sess.Exit(1)
			return
		}
		defer release()
		defer s.cfg.Hooks.SessionStarted(transport(sess))()
		defer s.recoverSession(sess) // recover.go
		h(releasingSession{Session: sess, release: release})
	}
}

// releasingSession gives the session's slot back before its exit status
// goes out. A client that sees its command end may start the next one at
// once; with a shared counter, giving the slot back is a round trip to the
// catalog, and a slot still held then refused the next session of a user
// allowed one. A catalog that does not answer holds the exit status back
// by releaseWait at most; the release goes on (and pgsessions retries).
type releasingSession struct {
	ssh.Session
	release func()
}

const releaseWait = time.Second

func (s releasingSession) Exit(code int) error {
	released := make(chan struct{})
	go func() {
		defer close(released)
		s.release()
	}()
	wait := time.NewTimer(releaseWait)
	select {
	case <-released:
	case <-wait.C:
	}
	wait.Stop()
	return s.Session.Exit(code)
}

// sessionRefusal is what the client is told of err: the limit it hit, or
// only that sessions cannot be counted (the cause is for the log).
func sessionRefusal(err error) error {
	for _, known := range []error{errTooManySessions, errTooManySessionsForUser, errTooManySessionsForAddr} {
		if errors.Is(err, known) {
			return known
		}
	}
	return errSessionsUncounted
}

func refuseOnStderr(sess ssh.Session, err error) {
	fmt.Fprintf(sess.Stderr(), "sshelf: %v\n", err)
}

func refuseFramed(sess ssh.Session, err error) {
	framing.WriteAnswer(sess, files.KindBusy, "sshelf: "+err.Error())
}
