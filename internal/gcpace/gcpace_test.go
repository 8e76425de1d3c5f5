package gcpace

import (
	"context"
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Keep(ctx, 1<<40, time.Millisecond) // huge headroom: the cap
	}()
	seen := false
	for i := 0; i < 2000 && !seen; i++ { // bounded: about 2 s at most
		p := debug.SetGCPercent(-1) // the only way to read it
		debug.SetGCPercent(p)
		seen = p == 500
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if !seen {
		t.Error("Keep never set the percentage for a huge headroom (500)")
	}
	if got := debug.SetGCPercent(before); got != 77 {
		t.Errorf("percentage after Keep = %d, want 77 restored", got)
	}
}
