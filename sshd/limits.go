package sshd

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gliderlabs/ssh"
)

var errTooManySessions = errors.New("too many sessions, try again later")

// sessionLimiter bounds concurrent sessions in total and per account.
type sessionLimiter struct {
	max, perUser int

	mu     sync.Mutex
	total  int
	byUser map[string]int
}

func newSessionLimiter(max, perUser int) *sessionLimiter {
	return &sessionLimiter{max: max, perUser: perUser, byUser: make(map[string]int)}
}

// acquire takes a slot for user, or fails; release gives it back.
func (l *sessionLimiter) acquire(user string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max || l.perUser > 0 && l.byUser[user] >= l.perUser {
		return nil, errTooManySessions
	}
	l.total++
	l.byUser[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.byUser[user]--; l.byUser[user] == 0 {
				delete(l.byUser, user)
			}
		})
	}, nil
}

// limited wraps a session handler in the session limits, so that no way in
// can forget them; refuse tells a refused client why, in its own framing.
func (s *Server) limited(h ssh.Handler, refuse func(ssh.Session, error)) ssh.Handler {
	return func(sess ssh.Session) {
		release, err := s.sessions.acquire(sess.User())
		if err != nil {
			refuse(sess, err)
			sess.Exit(1)
			return
		}
		defer release()
		defer s.recoverSession(sess) // recover.go
		h(sess)
	}
}

func refuseOnStderr(sess ssh.Session, err error) {
	fmt.Fprintf(sess.Stderr(), "sshelf: %v\n", err)
}

func refuseFramed(sess ssh.Session, err error) {
	writeEnd(sess, 1, "sshelf: "+err.Error())
}
