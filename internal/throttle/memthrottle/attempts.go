package memthrottle

import (
	"context"
	"fmt"
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
)

// Reserve implements throttle.Store. As sqlitethrottle's, it records the
// attempt on every key first and checks after, so each key's count
// includes this attempt (own); a refusal takes the records back.
func (s *Store) Reserve(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (int, *throttle.Refused, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("reserve: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The SQL primary key (key, id) refuses a second record of one
	// attempt on a key, listed twice or reserved before.
	for i, k := range keys {
		_, recorded := s.attempts[k][id]
		for _, o := range keys[:i] {
			recorded = recorded || o == k
		}
		if recorded {
			return 0, nil, fmt.Errorf("reserve: attempt %d already recorded on %q", id, k)
		}
	}
	expires := now.Add(p.Window).UnixNano()
	for _, k := range keys {
		if s.attempts[k] == nil {
			s.attempts[k] = make(map[int64]attempt)
		}
		s.attempts[k][id] = attempt{expires: expires}
	}
	t := now.UnixNano()
	n := 0
	for _, k := range keys {
		r, count := s.blocked(p, k, t, 1)
		if r != nil {
			s.remove(id, keys)
			return 0, r, nil
		}
		n = max(n, count)
	}
	if s.ops++; s.ops%pruneEvery == 0 {
		s.prune(t)
	}
	return n, nil, nil
}

// remove deletes attempt id from keys.
func (s *Store) remove(id int64, keys []string) {
	for _, k := range keys {
		if as, ok := s.attempts[k]; ok {
			delete(as, id)
			if len(as) == 0 {
				delete(s.attempts, k)
			}
		}
	}
}

// Fail implements throttle.Store.
func (s *Store) Fail(ctx context.Context, p throttle.Policy, id int64, keys []string, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("fail: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := now.UnixNano()
	locked := false
	for _, k := range keys {
		a, ok := s.attempts[k][id]
		if ok {
			a.failed = true
			s.attempts[k][id] = a
		}
		if !ok || p.Lockout <= 0 {
			continue // gone with a lockout or an unlock meanwhile; or no lock to set
		}
		failed := 0
		for _, a := range s.attempts[k] {
			if a.failed && a.expires > t {
				failed++
			}
		}
		if failed < p.MaxFailures {
			continue
		}
		until := now.Add(p.Lockout).UnixNano()
		if prev, ok := s.locks[k]; ok {
			until = max(until, prev) // a lockout not yet pruned, as SQLite's max(until, ...)
		}
		s.locks[k] = until
		// The count starts over when the lockout ends.
		delete(s.attempts, k)
		locked = true
	}
	return locked, nil
}

// Refund implements throttle.Store: lockouts stay.
func (s *Store) Refund(ctx context.Context, id int64, keys, forget []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("refund: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(id, keys)
	for _, k := range forget {
		delete(s.attempts, k)
	}
	return nil
}
