package memthrottle

import (
	"context"
	"fmt"
	"strings"
)

// Clear implements throttle.Store. Each key or prefix counts the keys it
// clears, in turn, so a key that several match counts once. An empty
// prefix is left out: it would clear everything. A prefix compares as
// bytes, never as a pattern.
func (s *Store) Clear(ctx context.Context, keys, prefixes []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("clear: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range keys {
		if s.clearKey(k) {
			n++
		}
	}
	for _, p := range prefixes {
		if p == "" {
			continue
		}
		// Collect first: clearKey deletes from the maps walked.
		var matched []string
		for k := range s.attempts {
			if strings.HasPrefix(k, p) {
				matched = append(matched, k)
			}
		}
		for k := range s.locks {
			if strings.HasPrefix(k, p) {
				matched = append(matched, k)
			}
		}
		for _, k := range matched {
			if s.clearKey(k) {
				n++
			}
		}
	}
	return n, nil
}

// clearKey deletes key's attempts and lockout and reports whether it had
// any. Expired ones not yet pruned count, as rows in sqlitethrottle do.
func (s *Store) clearKey(key string) bool {
	_, attempts := s.attempts[key]
	_, locked := s.locks[key]
	delete(s.attempts, key)
	delete(s.locks, key)
	return attempts || locked
}
