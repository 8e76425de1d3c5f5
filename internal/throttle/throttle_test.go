package throttle_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
	"github.com/sshelf/sshelf/internal/throttle/throttletest"
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

// Expired rows are pruned, so the tables stay bounded; a lockout in force
// stays.
func TestPrune(t *testing.T) {
	t.Parallel()
	l, c, db := newLimiter(t, throttle.Policy{MaxFailures: 2, Window: time.Minute, Lockout: 10 * time.Minute})
	throttletest.MustFail(t, l, "locked")
	throttletest.MustFail(t, l, "locked")
	for i := range 600 {
		throttletest.MustFail(t, l, fmt.Sprintf("addr-%d", i))
	}
	c.Advance(2 * time.Minute) // failures expired; the lockout is still in force
	for i := range 300 {       // enough reservations to trigger a prune
		throttletest.MustFail(t, l, fmt.Sprintf("new-%d", i))
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM throttle_attempts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 300 {
		t.Errorf("%d attempt rows after expiry, want at most the 300 new ones", n)
	}
	if throttletest.RefusalOf(t, l, "locked") == nil {
		t.Error("pruning dropped a lockout in force")
	}
}

// Lockouts live in the database: a new process sees them.
func TestSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.db")
	p := throttle.Policy{MaxFailures: 1, Window: time.Hour, Lockout: time.Hour}
	db := openDB(t, path)
	throttletest.MustFail(t, throttle.New(openStore(t, db), p), "k")
	db.Close()
	if throttletest.RefusalOf(t, throttle.New(openStore(t, openDB(t, path)), p), "k") == nil {
		t.Fatal("the lockout did not survive reopening the database")
	}
}
