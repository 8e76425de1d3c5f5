package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const MiB = 1 << 20
	for _, c := range []struct {
		name           string
		live, headroom uint64
		want           int
	}{
		{"empty heap: the cap", 0, 10 * MiB, 500},
		{"tiny heap: the cap", 1 * MiB, 10 * MiB, 500},
		{"small heap: headroom over live", 4 * MiB, 10 * MiB, 250},
		{"live equals headroom: the default", 10 * MiB, 10 * MiB, 100},
		{"large heap: never below the default", 500 * MiB, 10 * MiB, 100},
		{"no headroom: the default", 4 * MiB, 0, 100},
	} {
		if got := Percent(c.live, c.headroom); got != c.want {
			t.Errorf("%s: Percent(%d, %d) = %d, want %d", c.name, c.live, c.headroom, got, c.want)
		}
	}
}

// Keep sets a percentage while it runs and restores the one it found.
func TestKeepRestores(t *testing.T) {
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	stop := startKeep(1 << 40) // huge headroom: the cap
	seen := percentAfterGC(500)
	stop()
	if !seen {
		t.Error("Keep never set the percentage for a huge headroom (500)")
	}
	if got := debug.SetGCPercent(before); got != 77 {
		t.Errorf("percentage after Keep = %d, want 77 restored", got)
	}
}

// Keep follows the live heap from one collection to the next: up to the
// default when a large heap is live, back to the cap once it is garbage.
func TestKeepAdjustsAfterEachCollection(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	defer startKeep(64 << 20)()
	if !percentAfterGC(500) {
		t.Fatal("a small live heap did not get the cap (500)")
	}
	live := make([]byte, 256<<20) // 256 MiB live: 64 MiB is less than 100% of it
	for i := range live {
		live[i] = byte(i)
	}
	if !percentAfterGC(100) {
		t.Fatal("a 256 MiB live heap did not get the default (100)")
	}
	runtime.KeepAlive(live)
	live = nil
	if !percentAfterGC(500) {
		t.Fatal("once the 256 MiB were garbage, the percentage did not go back to the cap")
	}
}

// startKeep runs Keep until the returned function is called, which waits
// for it to end.
func startKeep(headroom uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Keep(ctx, headroom)
	}()
	return func() { cancel(); <-done }
}

// percentAfterGC collects until Keep has set the percentage want, and says
// whether it did.
func percentAfterGC(want int) bool {
	for range 500 { // bounded: about 1 s at most
		runtime.GC() // Keep adjusts after each collection
		time.Sleep(2 * time.Millisecond)
		p := debug.SetGCPercent(-1) // the only way to read it
		debug.SetGCPercent(p)
		if p == want {
			return true
		}
	}
	return false
}
