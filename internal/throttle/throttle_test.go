package throttle

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newLimiter(p Policy) (*Limiter, *clock) {
	l := New(p)
	c := newClock()
	l.SetClock(c.Now)
	return l, c
}

func TestLockoutAfterMaxFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		max  int
	}{{"one", 1}, {"three", 3}, {"ten", 10}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, c := newLimiter(Policy{MaxFailures: tt.max, Window: 10 * time.Minute, Lockout: 5 * time.Minute})
			for i := 1; i < tt.max; i++ {
				l.Fail("k")
				if locked, _ := l.Locked("k"); locked {
					t.Fatalf("locked after %d of %d failures", i, tt.max)
				}
				if got := l.Failures("k"); got != i {
					t.Fatalf("Failures = %d, want %d", got, i)
				}
			}
			start := c.Now()
			l.Fail("k")
			locked, until := l.Locked("k")
			if !locked || !until.Equal(start.Add(5*time.Minute)) {
				t.Fatalf("after %d failures: Locked = %v until %v, want true until %v", tt.max, locked, until, start.Add(5*time.Minute))
			}
			if locked, _ := l.Locked("other"); locked {
				t.Fatal("another key is locked")
			}
			// Success does not lift a lockout in force.
			l.Succeed("k")
			if locked, _ := l.Locked("k"); !locked {
				t.Fatal("Succeed lifted the lockout")
			}
			c.Advance(5*time.Minute - time.Nanosecond)
			if locked, _ := l.Locked("k"); !locked {
				t.Fatal("unlocked before the lockout ended")
			}
			c.Advance(time.Nanosecond)
			if locked, until := l.Locked("k"); locked || !until.IsZero() {
				t.Fatalf("still locked (until %v) when the lockout ended", until)
			}
			// The count started over at the lockout.
			if tt.max > 1 {
				l.Fail("k")
				if locked, _ := l.Locked("k"); locked {
					t.Fatal("one failure after a lockout locks again")
				}
			}
		})
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	l, c := newLimiter(Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: time.Hour})
	l.Fail("k") // t=0
	c.Advance(6 * time.Minute)
	l.Fail("k")                // t=6
	c.Advance(4 * time.Minute) // t=10: the first is exactly Window old and no longer counts
	if got := l.Failures("k"); got != 1 {
		t.Fatalf("Failures = %d, want 1", got)
	}
	l.Fail("k") // t=10: two within the window
	if locked, _ := l.Locked("k"); locked {
		t.Fatal("locked by failures spread over more than the window")
	}
	c.Advance(time.Minute)
	l.Fail("k") // t=11: three within the window (6, 10, 11)
	if locked, _ := l.Locked("k"); !locked {
		t.Fatal("not locked by three failures within the window")
	}
	c.Advance(time.Hour)
	if got := l.Failures("k"); got != 0 {
		t.Errorf("Failures after the window = %d", got)
	}
}

func TestSucceedForgets(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(Policy{MaxFailures: 3, Window: time.Hour, Lockout: time.Hour})
	l.Fail("k")
	l.Fail("k")
	l.Fail("other")
	l.Succeed("k")
	if got := l.Failures("k"); got != 0 {
		t.Fatalf("Failures after Succeed = %d", got)
	}
	if got := l.Failures("other"); got != 1 {
		t.Fatalf("Succeed changed another key: %d", got)
	}
	l.Fail("k")
	l.Fail("k")
	if locked, _ := l.Locked("k"); locked {
		t.Fatal("failures before a success still counted")
	}
	l.Succeed("never-seen") // no panic
}

func TestDelay(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	tests := []struct {
		name   string
		policy Policy
		want   []time.Duration // for failures 1, 2, 3, ...
	}{
		{"no delay configured", Policy{MaxFailures: 100, Window: time.Hour}, []time.Duration{0, 0, 0, 0}},
		{"doubling up to the cap", Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 100 * ms, MaxDelay: time.Second},
			[]time.Duration{0, 100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}},
		{"cap not a power of two", Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 200 * ms, MaxDelay: 3 * time.Second},
			[]time.Duration{0, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3 * time.Second, 3 * time.Second}},
		{"cap below base", Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: time.Second, MaxDelay: 100 * ms},
			[]time.Duration{0, 100 * ms, 100 * ms}},
		{"disabled policy", Policy{MaxFailures: 0, BaseDelay: time.Second, MaxDelay: time.Second},
			[]time.Duration{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := newLimiter(tt.policy)
			for i, want := range tt.want {
				if got := l.Fail("k"); got != want {
					t.Errorf("failure %d: delay %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// With no MaxDelay (0 = no cap, as the final check treats it), the delay
// should still double.
func TestDelayGrowsWithoutCap(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(Policy{MaxFailures: 100, Window: time.Hour, BaseDelay: 10 * time.Millisecond})
	var got []time.Duration
	for range 4 {
		got = append(got, l.Fail("k"))
	}
	want := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("without MaxDelay the delay does not grow: %v, want %v", got, want)
	}
}

func TestDisabledAndNil(t *testing.T) {
	t.Parallel()
	l := New(Policy{})
	for range 100 {
		if d := l.Fail("k"); d != 0 {
			t.Fatalf("disabled policy delays %v", d)
		}
	}
	if locked, _ := l.Locked("k"); locked {
		t.Fatal("disabled policy locks")
	}
	var nl *Limiter
	nl.Fail("k")
	nl.Succeed("k")
	if locked, _ := nl.Locked("k"); locked || nl.Failures("k") != 0 {
		t.Fatal("nil limiter")
	}
}

// Keys whose failures expired are pruned, so memory stays bounded.
func TestPrune(t *testing.T) {
	t.Parallel()
	l, c := newLimiter(Policy{MaxFailures: 2, Window: time.Minute, Lockout: 10 * time.Minute})
	l.Fail("locked")
	l.Fail("locked")
	for i := range 2000 {
		l.Fail(fmt.Sprintf("addr-%d", i))
	}
	if n := entries(l); n < 1000 {
		t.Fatalf("%d entries before expiry, want about 2000", n)
	}
	c.Advance(2 * time.Minute) // failures expired; the lockout is still in force
	for i := range 1100 {      // enough operations to trigger a prune
		l.Fail(fmt.Sprintf("new-%d", i))
	}
	if n := entries(l); n > 1101+1 {
		t.Errorf("%d entries after expiry, want at most the new keys and the locked one", n)
	}
	if locked, _ := l.Locked("locked"); !locked {
		t.Error("pruning dropped a key whose lockout is in force")
	}
}

func entries(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	l, c := newLimiter(Policy{MaxFailures: 1000, Window: time.Hour, Lockout: time.Hour, BaseDelay: time.Millisecond, MaxDelay: time.Second})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				k := fmt.Sprintf("k%d", i%5)
				l.Fail(k)
				l.Locked(k)
				l.Failures(k)
				if g == 0 && i%10 == 0 {
					l.Succeed("k4")
					c.Advance(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	if got := l.Failures("k0"); got != 160 {
		t.Errorf("k0 failures = %d, want 160", got)
	}
}
