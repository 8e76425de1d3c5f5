package sshd

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/clientaddr"
)

// Each refusal says which limit was hit, so a user knows whether waiting
// or another account or address would help.
var (
	errTooManySessions        = errors.New("too many sessions, try again later")
	errTooManySessionsForUser = errors.New("too many sessions for your account, try again later")
	errTooManySessionsForAddr = errors.New("too many sessions from your address, try again later")
)

// sessionLimiter bounds concurrent sessions in total, per account and per
// client address: with open signup accounts are free, so only the address
// keeps one client from taking every slot.
type sessionLimiter struct {
	max, perUser, perAddr int

	mu     sync.Mutex
	total  int
	byUser counter
	byAddr counter
}

func newSessionLimiter(max, perUser, perAddr int) *sessionLimiter {
	return &sessionLimiter{max: max, perUser: perUser, perAddr: perAddr,
		byUser: counter{}, byAddr: counter{}}
}

// acquire takes a slot for user at addr, or fails; release gives it back.
func (l *sessionLimiter) acquire(user, addr string) (release func(), err error) {
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
		release, err := s.sessions.acquire(sess.User(), sessionAddr(sess))
		if err != nil {
			s.log.Info("session refused", "user", sess.User(), "addr", sess.RemoteAddr().String(), "reason", err.Error())
			refuse(sess, err)
			sess.Exit(1)
			return
		}
		defer release()
		defer s.cfg.Hooks.SessionStarted(transport(sess))()
		defer s.recoverSession(sess) // recover.go
		h(sess)
	}
}

func refuseOnStderr(sess ssh.Session, err error) {
	fmt.Fprintf(sess.Stderr(), "sshelf: %v\n", err)
}

func refuseFramed(sess ssh.Session, err error) {
	writeAnswer(sess, files.KindBusy, "sshelf: "+err.Error())
}
