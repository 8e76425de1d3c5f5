package testkit

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SampleHeap samples the heap in use every 20 ms until the returned
// function is called (or the test ends); that returns the peak.
func SampleHeap(t testing.TB) (peak func() uint64) {
	var max atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	end := func() uint64 {
		once.Do(func() { close(stop); wg.Wait() })
		return max.Load()
	}
	t.Cleanup(func() { end() })
	return end
}
