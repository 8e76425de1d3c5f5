package throttle_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

// clock is a manual clock for SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqlitedb.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openStore(t *testing.T, db *sql.DB) *sqlitethrottle.Store {
	t.Helper()
	s, err := sqlitethrottle.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newLimiter(t *testing.T, p throttle.Policy) (*throttle.Limiter, *clock, *sql.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "t.db"))
	l := throttle.New(openStore(t, db), p)
	c := newClock()
	l.SetClock(c.Now)
	return l, c, db
}

// fail reserves and fails one attempt on keys; it reports whether the
// failure locked a key.
func fail(t *testing.T, l *throttle.Limiter, keys ...string) bool {
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

// refused returns the refusal of keys now, or nil.
func refused(t *testing.T, l *throttle.Limiter, keys ...string) *throttle.Refused {
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

func TestLockoutAfterMaxFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		max  int
	}{{"one", 1}, {"three", 3}, {"ten", 10}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, c, _ := newLimiter(t, throttle.Policy{MaxFailures: tt.max, Window: 10 * time.Minute, Lockout: 5 * time.Minute})
			for i := 1; i < tt.max; i++ {
				if fail(t, l, "k") {
					t.Fatalf("failure %d of %d locked", i, tt.max)
				}
				if r := refused(t, l, "k"); r != nil {
					t.Fatalf("blocked after %d of %d failures: %v", i, tt.max, r)
				}
			}
			start := c.Now()
			if !fail(t, l, "k") {
				t.Fatalf("failure %d did not lock", tt.max)
			}
			r := refused(t, l, "k")
			if r == nil || r.Key != "k" || !r.Until.Equal(start.Add(5*time.Minute)) || r.Wait != 5*time.Minute {
				t.Fatalf("after %d failures: %+v, want k until %v", tt.max, r, start.Add(5*time.Minute))
			}
			if _, err := l.Reserve(ctx, "other", "k"); !errors.As(err, &r) || r.Key != "k" {
				t.Fatalf("Reserve with a locked key: %v", err)
			}
			if r := refused(t, l, "other"); r != nil {
				t.Fatal("another key is blocked (by a refused reservation?)")
			}
			// A success elsewhere that forgets k's attempts does not lift
			// a lockout in force.
			tk, err := l.Reserve(ctx, "other")
			if err != nil {
				t.Fatal(err)
			}
			if err := tk.Refund(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			c.Advance(5*time.Minute - time.Nanosecond)
			if r := refused(t, l, "k"); r == nil || r.Wait != time.Second {
				t.Fatalf("just before the end: %+v, want blocked for 1s (rounded up)", r)
			}
			c.Advance(time.Nanosecond)
			if r := refused(t, l, "k"); r != nil {
				t.Fatalf("still blocked when the lockout ended: %+v", r)
			}
			// The count started over at the lockout.
			if tt.max > 1 && fail(t, l, "k") {
				t.Fatal("one failure after a lockout locks again")
			}
		})
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	l, c, _ := newLimiter(t, throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: time.Hour})
	fail(t, l, "k") // t=0
	c.Advance(6 * time.Minute)
	fail(t, l, "k")            // t=6
	c.Advance(4 * time.Minute) // t=10: the first is exactly Window old and no longer counts
	if fail(t, l, "k") {       // t=10: two within the window
		t.Fatal("locked by failures spread over more than the window")
	}
	c.Advance(time.Minute)
	if !fail(t, l, "k") { // t=11: three within the window (6, 10, 11)
		t.Fatal("not locked by three failures within the window")
	}
}

// A burst of parallel attempts gets no more slots than the limit, per key,
// whichever keys each attempt reserves; slots given back are taken again.
func TestReserveBurst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
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
			t.Parallel()
			l, _, _ := newLimiter(t, throttle.Policy{MaxFailures: tt.max, Window: time.Hour, Lockout: time.Hour})
			var granted, refusedN atomic.Int64
			var wg sync.WaitGroup
			tickets := make(chan *throttle.Ticket, tt.burst)
			for i := range tt.burst {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tk, err := l.Reserve(ctx, tt.keys(i)...)
					var r *throttle.Refused
					switch {
					case err == nil:
						granted.Add(1)
						tickets <- tk
					case errors.As(err, &r):
						refusedN.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			close(tickets)
			if granted.Load() != int64(tt.want) || granted.Load()+refusedN.Load() != int64(tt.burst) {
				t.Fatalf("%d granted, %d refused of %d; want %d granted", granted.Load(), refusedN.Load(), tt.burst, tt.want)
			}
			// A refund frees a slot for the next attempt.
			if tt.want < tt.burst {
				tk := <-tickets
				if err := tk.Refund(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Reserve(ctx, tt.keys(0)...); err != nil {
					t.Fatalf("after a refund: %v", err)
				}
				if _, err := l.Reserve(ctx, tt.keys(0)...); err == nil {
					t.Fatal("a refund freed two slots")
				}
			}
		})
	}
}

// Two processes (two database handles on one file) cannot race past the
// limit together.
func TestReserveAcrossHandles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	p := throttle.Policy{MaxFailures: 7, Window: time.Hour, Lockout: time.Hour}
	limiters := []*throttle.Limiter{
		throttle.New(openStore(t, openDB(t, path)), p),
		throttle.New(openStore(t, openDB(t, path)), p),
	}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := limiters[i%2].Reserve(ctx, "addr")
			if err == nil {
				granted.Add(1)
				if _, _, err := tk.Fail(ctx); err != nil {
					t.Error(err)
				}
				return
			}
			var r *throttle.Refused
			if !errors.As(err, &r) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 7 {
		t.Fatalf("%d attempts granted across two handles, want 7", granted.Load())
	}
	// Both see the lockout the failures set.
	for i, l := range limiters {
		if err := l.Blocked(ctx, "addr"); err == nil {
			t.Errorf("handle %d does not see the lockout", i)
		}
	}
}

// While the attempts filling a key are still being checked, the key is
// blocked; with no lockout the refusal lasts until the oldest expires.
func TestFullWhilePending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, c, _ := newLimiter(t, throttle.Policy{MaxFailures: 2, Window: time.Hour, Lockout: 10 * time.Minute})
	a, _ := l.Reserve(ctx, "k")
	c.Advance(time.Minute)
	b, _ := l.Reserve(ctx, "k")
	if r := refused(t, l, "k"); r == nil || r.Wait != 10*time.Minute {
		t.Fatalf("full of pending attempts: %+v, want blocked for the lockout", r)
	}
	if err := a.Refund(ctx); err != nil {
		t.Fatal(err)
	}
	if r := refused(t, l, "k"); r != nil {
		t.Fatalf("after a refund: %+v", r)
	}
	_ = b

	cap, c2, _ := newLimiter(t, throttle.Policy{MaxFailures: 2, Window: time.Hour})
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
	if r := refused(t, cap, "signup"); r == nil || r.Wait != 20*time.Minute {
		t.Fatalf("window cap: %+v, want blocked for 20m", r)
	}
	c2.Advance(20 * time.Minute)
	if _, err := cap.Reserve(ctx, "signup"); err != nil {
		t.Fatalf("after the oldest expired: %v", err)
	}
}

func TestRefundForgets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _, _ := newLimiter(t, throttle.Policy{MaxFailures: 3, Window: time.Hour, Lockout: time.Hour})
	fail(t, l, "addr", "user")
	fail(t, l, "addr", "user")
	tk, err := l.Reserve(ctx, "addr", "user")
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Refund(ctx, "user"); err != nil { // a success forgets the account's failures
		t.Fatal(err)
	}
	if fail(t, l, "user") || fail(t, l, "user") {
		t.Fatal("failures before a success still counted on the forgotten key")
	}
	if !fail(t, l, "addr") {
		t.Fatal("the refund forgot the other key's failures too")
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const ms = time.Millisecond
	tests := []struct {
		name   string
		policy throttle.Policy
		want   []time.Duration // for attempts 1, 2, 3, ...
	}{
		{"no delay configured", throttle.Policy{MaxFailures: 100, Window: time.Hour}, []time.Duration{0, 0, 0, 0}},
		{"doubling up to the cap", throttle.Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 100 * ms, MaxDelay: time.Second},
			[]time.Duration{0, 100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}},
		{"cap not a power of two", throttle.Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 200 * ms, MaxDelay: 3 * time.Second},
			[]time.Duration{0, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3 * time.Second, 3 * time.Second}},
		{"cap below base", throttle.Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: time.Second, MaxDelay: 100 * ms},
			[]time.Duration{0, 100 * ms, 100 * ms}},
		{"no cap: an hour", throttle.Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 10 * ms},
			[]time.Duration{0, 10 * ms, 20 * ms, 40 * ms}},
		{"disabled policy", throttle.Policy{MaxFailures: 0, BaseDelay: time.Second, MaxDelay: time.Second},
			[]time.Duration{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _, _ := newLimiter(t, tt.policy)
			for i, want := range tt.want {
				tk, err := l.Reserve(ctx, "k")
				if err != nil {
					t.Fatal(err)
				}
				if got, _, err := tk.Fail(ctx); got != want || err != nil {
					t.Errorf("attempt %d: delay %v (%v), want %v", i+1, got, err, want)
				}
			}
		})
	}
}

func TestDisabledAndNil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := throttle.New(nil, throttle.Policy{})
	for range 100 {
		tk, err := l.Reserve(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if d, locked, err := tk.Fail(ctx); d != 0 || locked || err != nil {
			t.Fatalf("disabled policy: %v %v %v", d, locked, err)
		}
	}
	if err := l.Blocked(ctx, "k"); err != nil {
		t.Fatal("disabled policy blocks")
	}
	var nl *throttle.Limiter
	tk, err := nl.Reserve(ctx, "k")
	if err != nil || tk.Refund(ctx) != nil || nl.Blocked(ctx, "k") != nil {
		t.Fatal("nil limiter")
	}
	var nt *throttle.Ticket
	if nt.Refund(ctx) != nil || nt.Keep(ctx) != nil {
		t.Fatal("nil ticket")
	}
}

// Clear lifts lockouts and counts of exact keys and of prefixes, and only
// those.
func TestClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _, _ := newLimiter(t, throttle.Policy{MaxFailures: 1, Window: time.Hour, Lockout: time.Hour})
	for _, k := range []string{"addr/1.2.3.4", "addr/1.2.3.45", "file/alice/a", "file/alice/b", "file/alice2/a"} {
		fail(t, l, k)
	}
	n, err := l.Clear(ctx, []string{"addr/1.2.3.4", "addr/none"}, []string{"file/alice/", ""})
	if err != nil || n != 3 {
		t.Fatalf("Clear = %d, %v; want 3 keys", n, err)
	}
	for k, want := range map[string]bool{"addr/1.2.3.4": false, "addr/1.2.3.45": true, "file/alice/a": false, "file/alice/b": false, "file/alice2/a": true} {
		if got := refused(t, l, k) != nil; got != want {
			t.Errorf("%s blocked = %v, want %v", k, got, want)
		}
	}
}

// Expired rows are pruned, so the tables stay bounded; a lockout in force
// stays.
func TestPrune(t *testing.T) {
	t.Parallel()
	l, c, db := newLimiter(t, throttle.Policy{MaxFailures: 2, Window: time.Minute, Lockout: 10 * time.Minute})
	fail(t, l, "locked")
	fail(t, l, "locked")
	for i := range 600 {
		fail(t, l, fmt.Sprintf("addr-%d", i))
	}
	c.Advance(2 * time.Minute) // failures expired; the lockout is still in force
	for i := range 300 {       // enough reservations to trigger a prune
		fail(t, l, fmt.Sprintf("new-%d", i))
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM throttle_attempts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 300 {
		t.Errorf("%d attempt rows after expiry, want at most the 300 new ones", n)
	}
	if refused(t, l, "locked") == nil {
		t.Error("pruning dropped a lockout in force")
	}
}

// Lockouts live in the database: a new process sees them.
func TestSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.db")
	p := throttle.Policy{MaxFailures: 1, Window: time.Hour, Lockout: time.Hour}
	db := openDB(t, path)
	fail(t, throttle.New(openStore(t, db), p), "k")
	db.Close()
	if refused(t, throttle.New(openStore(t, openDB(t, path)), p), "k") == nil {
		t.Fatal("the lockout did not survive reopening the database")
	}
}
