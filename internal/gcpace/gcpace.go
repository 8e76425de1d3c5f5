// Package gcpace gives the garbage collector a floor of headroom: it lets
// the heap grow by at least a fixed number of bytes over the live heap
// between collections, and by the default 100% once the live heap is larger
// than that.
//
// Why: a server moving files keeps a small live heap (a few MiB) while its
// transfers allocate packet buffers at hundreds of MB/s. With the default
// GOGC=100 the collector then runs every few MiB (about a thousand times per
// GiB uploaded over SFTP), and SFTP uploads spent a quarter of their CPU on
// allocation and collection. A fixed headroom of 10 MiB collects several
// times less often for at most 10 MiB more heap, and changes nothing when
// many sessions make the live heap large. GOGC alone cannot say this:
// GOGC=400 would also multiply a large heap by five.
package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

const liveHeap = "/gc/heap/live:bytes"

// Percent is the GOGC value that lets a heap of live bytes grow by headroom
// bytes before the next collection: never below the default 100, and at most
// maxPercent (so a nearly empty heap does not get an unbounded multiplier
// for the moment before the next adjustment).
func Percent(live, headroom uint64) int {
	const maxPercent = 500
	if live == 0 {
		return maxPercent
	}
	p := headroom * 100 / live
	switch {
	case p < 100:
		return 100
	case p > maxPercent:
		return maxPercent
	}
	return int(p)
}

// Keep adjusts the collector's percentage to the live heap after every
// collection until ctx ends, then restores the percentage it found.
//
// After each collection, not on a timer: the live heap changes only then,
// and a percentage set for a small live heap overshoots when the next
// collection finds a larger one (500% of 2 MiB is 12 MiB; of 5 MiB, 30
// MiB). Adjusted every 100 ms, an exec upload, which collects every few
// milliseconds, peaked at 47-63 MiB of RSS; the runtime keeps about the
// largest heap goal it has seen.
func Keep(ctx context.Context, headroom uint64) {
	sample := []metrics.Sample{{Name: liveHeap}}
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	collected := make(chan struct{}, 1)
	var stopped atomic.Bool
	defer stopped.Store(true)
	afterEachGC(collected, &stopped)
	current := 100
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			// Only a change of more than a tenth is worth committing: the
			// live heap moves a little with every collection.
			if p := Percent(sample[0].Value.Uint64(), headroom); p > current*11/10 || p < current*9/10 {
				debug.SetGCPercent(p)
				current = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-collected:
		}
	}
}

// sentinel is garbage the collector finds in each cycle; it has a pointer
// so that it is not one of the tiny objects whose finalizers may never run.
type sentinel struct{ _ *byte }

// afterEachGC signals c after every collection until stop is set: the
// runtime has no such callback, but it runs a finalizer once it finds its
// object unreachable, and each one arms the next.
func afterEachGC(c chan<- struct{}, stop *atomic.Bool) {
	runtime.SetFinalizer(new(sentinel), func(*sentinel) {
		if stop.Load() {
			return
		}
		select {
		case c <- struct{}{}:
		default: // Keep has a signal waiting already
		}
		afterEachGC(c, stop)
	})
}
