package sshd

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// The reasons a connection is closed before its handshake. The client may
// never see them (OpenSSH shows lines before the version only with -v):
// they are for the log and for whoever looks.
var (
	errTooManyUnauthenticated        = errors.New("too many connections logging in, try again later")
	errTooManyUnauthenticatedForAddr = errors.New("too many connections logging in from your address, try again later")
	errTooManyConnectionsForAddr     = errors.New("too many connections from your address, try again later")
)

// connLimiter bounds connections before the SSH handshake, like OpenSSH's
// MaxStartups and PerSourceMaxStartups: connections not yet logged in, in
// total and per client address, and all connections per address. A
// connection over a bound is closed at once, having cost a goroutine and
// a few hundred bytes; one within them holds its slot until it logs in
// (then only the per-address count of connections) or closes. Zero: no
// bound.
type connLimiter struct {
	maxUnauth, maxUnauthPerAddr, maxPerAddr int

	mu           sync.Mutex
	unauth       int
	unauthByAddr counter
	byAddr       counter // all connections
}

func newConnLimiter(maxUnauth, maxUnauthPerAddr, maxPerAddr int) *connLimiter {
	return &connLimiter{maxUnauth: maxUnauth, maxUnauthPerAddr: maxUnauthPerAddr, maxPerAddr: maxPerAddr,
		unauthByAddr: counter{}, byAddr: counter{}}
}

// connSlot is one admitted connection's place in the counts.
type connSlot struct {
	l      *connLimiter
	addr   string
	authed bool // under l.mu
	done   bool // under l.mu
}

// admit takes a slot for a new, unauthenticated connection from addr.
func (l *connLimiter) admit(addr string) (*connSlot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.byAddr.full(addr, l.maxPerAddr):
		return nil, errTooManyConnectionsForAddr
	case l.unauthByAddr.full(addr, l.maxUnauthPerAddr):
		return nil, errTooManyUnauthenticatedForAddr
	case atLimit(l.unauth, l.maxUnauth):
		return nil, errTooManyUnauthenticated
	}
	l.unauth++
	l.unauthByAddr.add(addr)
	l.byAddr.add(addr)
	return &connSlot{l: l, addr: addr}, nil
}

// authenticated moves the connection out of the unauthenticated counts.
func (s *connSlot) authenticated() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.authed || s.done {
		return
	}
	s.authed = true
	l.unauth--
	l.unauthByAddr.done(s.addr)
}

// release gives the slot back when the connection closes; again is a no-op.
func (s *connSlot) release() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if !s.authed {
		l.unauth--
		l.unauthByAddr.done(s.addr)
	}
	l.byAddr.done(s.addr)
}

// counts returns the unauthenticated connections in total and, for addr,
// the unauthenticated and all connections; for tests.
func (l *connLimiter) counts(addr string) (unauth, addrUnauth, addrAll int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unauth, l.unauthByAddr[addr], l.byAddr[addr]
}

// refusalLog logs refused connections at most once per interval, with how
// many were refused since the last line: a flood must not flood the log.
type refusalLog struct {
	log   *slog.Logger
	every time.Duration

	mu    sync.Mutex
	last  time.Time
	count int
}

func (r *refusalLog) refused(addr string, err error) {
	r.mu.Lock()
	r.count++
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.mu.Unlock()
		return
	}
	n := r.count
	r.count, r.last = 0, now
	r.mu.Unlock()
	r.log.Warn("connection refused", "addr", addr, "reason", err.Error(), "refused", n)
}
