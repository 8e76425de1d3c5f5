// Package throttle counts failures per key (an address, an account, an
// account and file) in a sliding window and says how long to wait or whether
// the key is locked out.
package throttle

import (
	"sync"
	"time"
)

// Policy sets when failures slow answers down and when they lock a key out.
type Policy struct {
	MaxFailures int           // failures within Window that lock the key; <= 0 disables
	Window      time.Duration // how far back failures count
	Lockout     time.Duration // how long a locked key stays locked
	// Delay for the n-th failure (n >= 1 counts the current one):
	// BaseDelay doubled per failure past the first, capped at MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration // 0: an hour
}

// Limiter tracks failures per key. It is safe for concurrent use and its
// memory is bounded by pruning keys whose failures have expired.
type Limiter struct {
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	ops     int
}

type entry struct {
	failures    []time.Time
	lockedUntil time.Time
}

// New returns a Limiter with policy p.
func New(p Policy) *Limiter {
	return &Limiter{policy: p, now: time.Now, entries: make(map[string]*entry)}
}

// SetClock replaces the clock, for tests.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Locked reports whether key is locked out now, and until when.
func (l *Limiter) Locked(key string) (bool, time.Time) {
	if l == nil || l.policy.MaxFailures <= 0 {
		return false, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return false, time.Time{}
	}
	now := l.now()
	if now.Before(e.lockedUntil) {
		return true, e.lockedUntil
	}
	return false, time.Time{}
}

// Fail records a failure for key and returns how long the caller should
// delay its answer.
func (l *Limiter) Fail(key string) time.Duration {
	if l == nil || l.policy.MaxFailures <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybePrune(now)
	e := l.entries[key]
	if e == nil {
		e = &entry{}
		l.entries[key] = e
	}
	e.failures = recent(e.failures, now.Add(-l.policy.Window))
	e.failures = append(e.failures, now)
	n := len(e.failures)
	if n >= l.policy.MaxFailures {
		e.lockedUntil = now.Add(l.policy.Lockout)
		e.failures = e.failures[:0]
	}
	return l.delay(n)
}

// Failures returns the number of failures for key within the window.
func (l *Limiter) Failures(key string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return 0
	}
	e.failures = recent(e.failures, l.now().Add(-l.policy.Window))
	return len(e.failures)
}

// Succeed forgets key's failures (not a lockout in force).
func (l *Limiter) Succeed(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[key]; e != nil && !l.now().Before(e.lockedUntil) {
		delete(l.entries, key)
	}
}

func (l *Limiter) delay(n int) time.Duration {
	if l.policy.BaseDelay <= 0 || n <= 1 {
		return 0
	}
	// Without MaxDelay, cap at an hour: doubling must not overflow.
	limit := l.policy.MaxDelay
	if limit <= 0 {
		limit = time.Hour
	}
	d := l.policy.BaseDelay
	for i := 2; i < n && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	return d
}

// maybePrune drops expired entries every so often, so an attacker cycling
// through keys cannot grow the map without bound.
func (l *Limiter) maybePrune(now time.Time) {
	l.ops++
	if l.ops < 1024 {
		return
	}
	l.ops = 0
	cutoff := now.Add(-l.policy.Window)
	for k, e := range l.entries {
		e.failures = recent(e.failures, cutoff)
		if len(e.failures) == 0 && !now.Before(e.lockedUntil) {
			delete(l.entries, k)
		}
	}
}

func recent(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}
