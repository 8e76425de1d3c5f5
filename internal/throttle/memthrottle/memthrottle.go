// Package memthrottle keeps throttle's attempts and lockouts in memory,
// for tests and fuzzing: keeps nothing across restarts, and is shared only
// by the users of one Store. It mirrors sqlitethrottle, row for row.
package memthrottle

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
)

// pruneEvery is how many reservations pass between deletions of expired
// entries, as in sqlitethrottle: the maps hold at most what the last
// window's attempts left, and the lockouts in force.
const pruneEvery = 256

// attempt is a row of sqlitethrottle's throttle_attempts.
type attempt struct {
	expires int64 // unix nanoseconds
	failed  bool
}

// Store is a throttle.Store in memory. One mutex makes each method one
// transaction, as the SQL stores' are.
type Store struct {
	mu sync.Mutex
	// attempts holds each key's attempts by id; a key without any has no
	// entry, so the map is bounded by the keys that hold attempts.
	attempts map[string]map[int64]attempt
	locks    map[string]int64 // key to the end of its lockout, unix nanoseconds
	ops      uint64           // reservations granted, for pruneEvery
}

var _ throttle.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{attempts: make(map[string]map[int64]attempt), locks: make(map[string]int64)}
}

// Prune deletes the attempts and lockouts that expired by now.
func (s *Store) Prune(ctx context.Context, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("throttle prune: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now.UnixNano())
	return nil
}

func (s *Store) prune(t int64) {
	for k, as := range s.attempts {
		for id, a := range as {
			if a.expires <= t {
				delete(as, id)
			}
		}
		if len(as) == 0 {
			delete(s.attempts, k)
		}
	}
	for k, until := range s.locks {
		if until <= t {
			delete(s.locks, k)
		}
	}
}

// blocked checks key at t (unix nanoseconds); own is how many of the
// key's attempts are the caller's own, already recorded. It returns the
// number of attempts the key holds, as sqlitethrottle's does.
func (s *Store) blocked(p throttle.Policy, key string, t int64, own int) (*throttle.Refused, int) {
	if until, ok := s.locks[key]; ok && until > t {
		return &throttle.Refused{Key: key, Until: time.Unix(0, until)}, 0
	}
	count := 0
	var oldest int64
	for _, a := range s.attempts[key] {
		if a.expires > t {
			if count == 0 || a.expires < oldest {
				oldest = a.expires
			}
			count++
		}
	}
	if count-own >= p.MaxFailures {
		// Full of attempts still being checked: if they fail the key
		// locks; without a lockout it frees when the oldest expires.
		end := time.Unix(0, t).Add(p.Lockout)
		if p.Lockout <= 0 && count > 0 {
			end = time.Unix(0, oldest)
		}
		return &throttle.Refused{Key: key, Until: end}, count
	}
	return nil, count
}

// Blocked implements throttle.Store.
func (s *Store) Blocked(ctx context.Context, p throttle.Policy, keys []string, now time.Time) (*throttle.Refused, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blocked: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if r, _ := s.blocked(p, k, now.UnixNano(), 0); r != nil {
			return r, nil
		}
	}
	return nil, nil
}
