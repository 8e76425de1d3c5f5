// Package throttletest is the conformance suite of throttle.Store: every
// implementation runs TestStore from its tests. The suite drives the
// store through throttle.Limiter on a manual clock, as the servers do.
package throttletest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
)

// Backend makes new, empty storage for one test and returns a function
// that opens a handle on it. Each handle stands for another server sharing
// the storage. The tests open their handles before they write: opening may
// prune what expired by the real clock, and the suite's clock is not it.
type Backend func(t *testing.T) (open func(t *testing.T) throttle.Store)

// TestStore checks the stores that backend makes against the contract of
// throttle.Store.
func TestStore(t *testing.T, backend Backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) throttle.Store)
	}{
		{"LockoutAfterMaxFailures", testLockout},
		{"Window", testWindow},
		{"ReserveBurst", testReserveBurst},
		{"ReserveAcrossHandles", testReserveAcrossHandles},
		{"FailAcrossHandles", testFailAcrossHandles},
		{"FullWhilePending", testFullWhilePending},
		{"RefundForgets", testRefundForgets},
		{"Clear", testClear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, backend(t))
		})
	}
}

// clock is a manual clock for SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newLimiter(t *testing.T, open func(t *testing.T) throttle.Store, p throttle.Policy) (*throttle.Limiter, *clock) {
	t.Helper()
	l := throttle.New(open(t), p)
	c := newClock()
	l.SetClock(c.Now)
	return l, c
}

// MustFail reserves and fails one attempt on keys; it reports whether the
// failure locked a key.
func MustFail(t *testing.T, l *throttle.Limiter, keys ...string) bool {
	t.Helper()
	ctx := context.Background()
	tk, err := l.Reserve(ctx, keys...)
	if err != nil {
		t.Fatalf("Reserve(%q): %v", keys, err)
	}
	_, locked, err := tk.Fail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return locked
}

// PruneFixture fills s for a test of a store's pruning: the key "locked"
// locked out until now+10m, and 100 keys "addr-N" holding one attempt
// each. It returns the policy used and a time at which every attempt has
// expired while the lockout is still in force.
func PruneFixture(t *testing.T, s throttle.Store, now time.Time) (throttle.Policy, time.Time) {
	t.Helper()
	ctx := context.Background()
	p := throttle.Policy{MaxFailures: 2, Window: time.Minute, Lockout: 10 * time.Minute}
	for i := range 2 {
		if _, _, err := s.Reserve(ctx, p, int64(i), []string{"locked"}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Fail(ctx, p, int64(i), []string{"locked"}, now); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if _, _, err := s.Reserve(ctx, p, int64(i), []string{fmt.Sprint("addr-", i)}, now); err != nil {
			t.Fatal(err)
		}
	}
	return p, now.Add(2 * time.Minute)
}

// RefusalOf returns the refusal of keys now, or nil.
func RefusalOf(t *testing.T, l *throttle.Limiter, keys ...string) *throttle.Refused {
	t.Helper()
	err := l.Blocked(context.Background(), keys...)
	if err == nil {
		return nil
	}
	var r *throttle.Refused
	if !errors.As(err, &r) {
		t.Fatalf("Blocked(%q): %v", keys, err)
	}
	return r
}

func testLockout(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	store := open(t)
	for _, max := range []int{1, 3, 10} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			key := fmt.Sprint("k", max) // the subtests share one store
			l := throttle.New(store, throttle.Policy{MaxFailures: max, Window: 10 * time.Minute, Lockout: 5 * time.Minute})
			c := newClock()
			l.SetClock(c.Now)
			for i := 1; i < max; i++ {
				if MustFail(t, l, key) {
					t.Fatalf("failure %d of %d locked", i, max)
				}
				if r := RefusalOf(t, l, key); r != nil {
					t.Fatalf("blocked after %d of %d failures: %v", i, max, r)
				}
			}
			start := c.Now()
			if !MustFail(t, l, key) {
				t.Fatalf("failure %d did not lock", max)
			}
			r := RefusalOf(t, l, key)
			if r == nil || r.Key != key || !r.Until.Equal(start.Add(5*time.Minute)) || r.Wait != 5*time.Minute {
				t.Fatalf("after %d failures: %+v, want %s until %v", max, r, key, start.Add(5*time.Minute))
			}
			other := key + "-other"
			if _, err := l.Reserve(ctx, other, key); !errors.As(err, &r) || r.Key != key {
				t.Fatalf("Reserve with a locked key: %v", err)
			}
			if r := RefusalOf(t, l, other); r != nil {
				t.Fatal("another key is blocked (by a refused reservation?)")
			}
			// A success elsewhere that forgets the key's attempts does not
			// lift a lockout in force.
			tk, err := l.Reserve(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			if err := tk.Refund(ctx, key); err != nil {
				t.Fatal(err)
			}
			c.Advance(5*time.Minute - time.Nanosecond)
			if r := RefusalOf(t, l, key); r == nil || r.Wait != time.Second {
				t.Fatalf("just before the end: %+v, want blocked for 1s (rounded up)", r)
			}
			c.Advance(time.Nanosecond)
			if r := RefusalOf(t, l, key); r != nil {
				t.Fatalf("still blocked when the lockout ended: %+v", r)
			}
			// The count started over at the lockout.
			if max > 1 && MustFail(t, l, key) {
				t.Fatal("one failure after a lockout locks again")
			}
		})
	}
}

func testWindow(t *testing.T, open func(t *testing.T) throttle.Store) {
	l, c := newLimiter(t, open, throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: time.Hour})
	MustFail(t, l, "k") // t=0
	c.Advance(6 * time.Minute)
	MustFail(t, l, "k")        // t=6
	c.Advance(4 * time.Minute) // t=10: the first is exactly Window old and no longer counts
	if MustFail(t, l, "k") {   // t=10: two within the window
		t.Fatal("locked by failures spread over more than the window")
	}
	c.Advance(time.Minute)
	if !MustFail(t, l, "k") { // t=11: three within the window (6, 10, 11)
		t.Fatal("not locked by three failures within the window")
	}
}

// A burst of parallel attempts gets no more slots than the limit, per key,
// whichever keys each attempt reserves; slots given back are taken again.
func testReserveBurst(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	store := open(t)
	tests := []struct {
		name  string
		max   int
		burst int
		keys  func(i int) []string
		want  int
	}{
		{"one key", 5, 40, func(int) []string { return []string{"addr"} }, 5},
		{"two keys, one shared", 4, 40, func(i int) []string { return []string{fmt.Sprint("user", i), "file"} }, 4},
		{"two keys, both fresh", 2, 20, func(i int) []string { return []string{fmt.Sprint("a", i), fmt.Sprint("b", i)} }, 20},
		{"limit above the burst", 100, 30, func(int) []string { return []string{"k"} }, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The cases share one store; each keeps to keys of its own.
			keys := func(i int) []string {
				ks := tt.keys(i)
				for j := range ks {
					ks[j] = tt.name + "/" + ks[j]
				}
				return ks
			}
			l := throttle.New(store, throttle.Policy{MaxFailures: tt.max, Window: time.Hour, Lockout: time.Hour})
			granted, tickets := burst(t, tt.burst, func(i int) *throttle.Limiter { return l }, keys)
			if len(granted) != tt.want {
				t.Fatalf("%d of %d granted; want %d", len(granted), tt.burst, tt.want)
			}
			// A refund frees a slot for the next attempt.
			if tt.want < tt.burst {
				if err := tickets[0].Refund(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Reserve(ctx, keys(0)...); err != nil {
					t.Fatalf("after a refund: %v", err)
				}
				if _, err := l.Reserve(ctx, keys(0)...); err == nil {
					t.Fatal("a refund freed two slots")
				}
			}
		})
	}
}

// burst runs n reservations at once, the i-th on limiter(i) with keys(i),
// and returns which were granted and their tickets; every other one must
// be refused.
func burst(t *testing.T, n int, limiter func(i int) *throttle.Limiter, keys func(i int) []string) ([]int, []*throttle.Ticket) {
	t.Helper()
	ctx := context.Background()
	var (
		mu      sync.Mutex
		granted []int
		tickets []*throttle.Ticket
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			tk, err := limiter(i).Reserve(ctx, keys(i)...)
			var r *throttle.Refused
			switch {
			case err == nil:
				mu.Lock()
				granted = append(granted, i)
				tickets = append(tickets, tk)
				mu.Unlock()
			case !errors.As(err, &r):
				t.Errorf("Reserve %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return granted, tickets
}

// Servers sharing the storage cannot race past the limit together: of a
// burst on one key spread over two handles exactly MaxFailures are
// granted, and the failures lock the key for both.
func testReserveAcrossHandles(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	p := throttle.Policy{MaxFailures: 10, Window: time.Hour, Lockout: time.Hour}
	limiters := []*throttle.Limiter{throttle.New(open(t), p), throttle.New(open(t), p)}
	granted, tickets := burst(t, 60, func(i int) *throttle.Limiter { return limiters[i%2] },
		func(int) []string { return []string{"addr"} })
	if len(granted) != 10 {
		t.Fatalf("%d attempts granted across two handles, want 10", len(granted))
	}
	for _, tk := range tickets {
		if _, _, err := tk.Fail(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range limiters {
		if err := l.Blocked(ctx, "addr"); err == nil {
			t.Errorf("handle %d does not see the lockout", i)
		}
	}
}

// Failures settled at once on two handles all count: the last one locks
// the key, however they interleave.
func testFailAcrossHandles(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	p := throttle.Policy{MaxFailures: 8, Window: time.Hour, Lockout: time.Hour}
	limiters := []*throttle.Limiter{throttle.New(open(t), p), throttle.New(open(t), p)}
	_, tickets := burst(t, 8, func(i int) *throttle.Limiter { return limiters[i%2] },
		func(int) []string { return []string{"user"} })
	if len(tickets) != 8 {
		t.Fatalf("%d of 8 reservations granted", len(tickets))
	}
	var locks atomic.Int64
	var wg sync.WaitGroup
	for _, tk := range tickets {
		wg.Go(func() {
			_, locked, err := tk.Fail(ctx)
			if err != nil {
				t.Error(err)
			}
			if locked {
				locks.Add(1)
			}
		})
	}
	wg.Wait()
	if locks.Load() != 1 {
		t.Errorf("%d failures reported locking the key, want exactly one", locks.Load())
	}
	if RefusalOf(t, limiters[0], "user") == nil || RefusalOf(t, limiters[1], "user") == nil {
		t.Error("8 failures across two handles did not lock the key for both")
	}
}

// While the attempts filling a key are still being checked, the key is
// blocked; with no lockout the refusal lasts until the oldest expires.
func testFullWhilePending(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	l, c := newLimiter(t, open, throttle.Policy{MaxFailures: 2, Window: time.Hour, Lockout: 10 * time.Minute})
	a, err := l.Reserve(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if _, err := l.Reserve(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if r := RefusalOf(t, l, "k"); r == nil || r.Wait != 10*time.Minute {
		t.Fatalf("full of pending attempts: %+v, want blocked for the lockout", r)
	}
	if err := a.Refund(ctx); err != nil {
		t.Fatal(err)
	}
	if r := RefusalOf(t, l, "k"); r != nil {
		t.Fatalf("after a refund: %+v", r)
	}

	cap, c2 := newLimiter(t, open, throttle.Policy{MaxFailures: 2, Window: time.Hour})
	for range 2 {
		tk, err := cap.Reserve(ctx, "signup")
		if err != nil {
			t.Fatal(err)
		}
		if err := tk.Keep(ctx); err != nil {
			t.Fatal(err)
		}
		c2.Advance(20 * time.Minute)
	}
	// Kept at 0 and 20 minutes, now 40: the first expires in 20.
	if r := RefusalOf(t, cap, "signup"); r == nil || r.Wait != 20*time.Minute {
		t.Fatalf("window cap: %+v, want blocked for 20m", r)
	}
	c2.Advance(20 * time.Minute)
	if _, err := cap.Reserve(ctx, "signup"); err != nil {
		t.Fatalf("after the oldest expired: %v", err)
	}
}

func testRefundForgets(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	l, _ := newLimiter(t, open, throttle.Policy{MaxFailures: 3, Window: time.Hour, Lockout: time.Hour})
	MustFail(t, l, "addr", "user")
	MustFail(t, l, "addr", "user")
	tk, err := l.Reserve(ctx, "addr", "user")
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Refund(ctx, "user"); err != nil { // a success forgets the account's failures
		t.Fatal(err)
	}
	if MustFail(t, l, "user") || MustFail(t, l, "user") {
		t.Fatal("failures before a success still counted on the forgotten key")
	}
	if !MustFail(t, l, "addr") {
		t.Fatal("the refund forgot the other key's failures too")
	}
}

// Clear lifts lockouts and counts of exact keys and of prefixes, and only
// those; another handle sees it at once.
func testClear(t *testing.T, open func(t *testing.T) throttle.Store) {
	ctx := context.Background()
	p := throttle.Policy{MaxFailures: 1, Window: time.Hour, Lockout: time.Hour}
	l, c := newLimiter(t, open, p)
	// Opened first: opening may prune what expired by the real clock.
	other := throttle.New(open(t), p)
	other.SetClock(c.Now)
	for _, k := range []string{"addr/1.2.3.4", "addr/1.2.3.45", "file/alice/a", "file/alice/b", "file/alice2/a", "file/alice%/a"} {
		MustFail(t, l, k)
	}
	n, err := other.Clear(ctx, []string{"addr/1.2.3.4", "addr/none"}, []string{"file/alice/", ""})
	if err != nil || n != 3 {
		t.Fatalf("Clear = %d, %v; want 3 keys", n, err)
	}
	for k, want := range map[string]bool{"addr/1.2.3.4": false, "addr/1.2.3.45": true, "file/alice/a": false,
		"file/alice/b": false, "file/alice2/a": true, "file/alice%/a": true} {
		if got := RefusalOf(t, l, k) != nil; got != want {
			t.Errorf("%s blocked = %v, want %v", k, got, want)
		}
	}
	// A prefix is a prefix, not a pattern.
	if n, err := other.Clear(ctx, nil, []string{"file/alice_"}); err != nil || n != 0 {
		t.Errorf("Clear of a prefix with a pattern character = %d, %v; want 0", n, err)
	}
}
