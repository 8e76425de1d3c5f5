package sshd

import (
	"context"
	"errors"
	"testing"
)

// TestSessionLimiter: sessions are bounded in total, per account and per
// address, each refusal names its limit, and a released slot is free
// again.
func TestSessionLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		user, addr string
		want       error // nil: admitted (and held)
	}
	tests := []struct {
		name                  string
		max, perUser, perAddr int
		steps                 []step
	}{
		{"throwaway accounts from one address", 10, 3, 4, []step{
			{"a1", "10.0.0.1", nil}, {"a2", "10.0.0.1", nil}, {"a3", "10.0.0.1", nil}, {"a4", "10.0.0.1", nil},
			{"a5", "10.0.0.1", errTooManySessionsForAddr},
			{"alice", "10.0.0.2", nil}, // another address still gets in
		}},
		{"one account from many addresses", 10, 2, 4, []step{
			{"bob", "10.0.0.1", nil}, {"bob", "10.0.0.2", nil},
			{"bob", "10.0.0.3", errTooManySessionsForUser},
			{"carol", "10.0.0.3", nil},
		}},
		{"total", 3, 0, 0, []step{
			{"a", "10.0.0.1", nil}, {"b", "10.0.0.2", nil}, {"c", "10.0.0.3", nil},
			{"d", "10.0.0.4", errTooManySessions},
		}},
		{"address named before account", 10, 1, 1, []step{
			{"a", "10.0.0.1", nil},
			{"a", "10.0.0.1", errTooManySessionsForAddr},
		}},
		{"no bounds", 0, 0, 0, []step{
			{"a", "10.0.0.1", nil}, {"a", "10.0.0.1", nil}, {"a", "10.0.0.1", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newSessionLimiter(tt.max, tt.perUser, tt.perAddr, nil)
			var releases []func()
			for i, s := range tt.steps {
				release, err := l.acquire(context.Background(), s.user, s.addr)
				if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
					t.Fatalf("step %d (%s from %s): %v, want %v", i, s.user, s.addr, err, s.want)
				}
				if err == nil {
					releases = append(releases, release)
				}
			}
			// Every refused step fits once the others are released, and
			// releasing twice frees one slot only.
			for _, r := range releases {
				r()
				r()
			}
			if l.total != 0 || len(l.byUser) != 0 || len(l.byAddr) != 0 {
				t.Fatalf("after release: total %d, users %v, addrs %v", l.total, l.byUser, l.byAddr)
			}
			for i, s := range tt.steps {
				if s.want == nil {
					continue
				}
				release, err := l.acquire(context.Background(), s.user, s.addr)
				if err != nil {
					t.Errorf("step %d again after release: %v", i, err)
					continue
				}
				release()
			}
		})
	}
}
