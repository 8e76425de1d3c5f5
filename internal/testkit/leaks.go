package testkit

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// Counts are what a leak makes grow: the process's goroutines and open
// file descriptors (FDs is -1 where /proc/self/fd cannot be read).
type Counts struct{ Goroutines, FDs int }

func count() Counts {
	fds := -1
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(entries)
	}
	return Counts{runtime.NumGoroutine(), fds}
}

// Settled waits (bounded, 10 s) until the counts have stopped falling,
// so that what earlier tests' servers leave winding down is not taken for
// this test's leak, and returns them.
func Settled() Counts {
	c := count()
	for i, steady := 0, 0; i < 200 && steady < 5; i++ {
		time.Sleep(50 * time.Millisecond)
		n := count()
		if n.Goroutines >= c.Goroutines && n.FDs >= c.FDs {
			steady++
		} else {
			steady = 0
		}
		c = n
	}
	return c
}

// NoLeaks waits (bounded, 10 s) until neither count is more than slack
// above before, and fails the test, printing every goroutine, if one
// stays above.
func NoLeaks(t testing.TB, before Counts, slack int) {
	t.Helper()
	noLeaks(t, before, slack, true)
}

// NoLeakedGoroutines is NoLeaks for the goroutines only, for a test that
// runs a server in its own process (the runtime and SQLite may open a
// descriptor or two of their own).
func NoLeakedGoroutines(t testing.TB, before Counts, slack int) {
	t.Helper()
	noLeaks(t, before, slack, false)
}

func noLeaks(t testing.TB, before Counts, slack int, fds bool) {
	t.Helper()
	fdsLeft := func(c Counts) bool { return fds && c.FDs > before.FDs+slack }
	var c Counts
	for range 400 {
		c = count()
		if c.Goroutines <= before.Goroutines+slack && !fdsLeft(c) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	if fdsLeft(c) {
		t.Errorf("file descriptor leak: %d open, %d before", c.FDs, before.FDs)
	}
	if c.Goroutines > before.Goroutines+slack {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutine leak: %d running, %d before:\n%s", c.Goroutines, before.Goroutines, buf[:runtime.Stack(buf, true)])
	}
}
