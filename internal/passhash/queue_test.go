package passhash

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/clientaddr"
)

// waitFor polls until h has held slots and waiting callers (bounded).
func waitFor(t *testing.T, h *Hasher, held, waiting int) {
	t.Helper()
	for range 3000 {
		if g, w := h.queue.state(); g == held && w == waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	g, w := h.queue.state()
	t.Fatalf("want %d held, %d waiting; have %d, %d", held, waiting, g, w)
}

func from(addr string) context.Context { return clientaddr.With(context.Background(), addr) }

// TestFairQueueOrder: with every slot held, one or more addresses queue a
// flood of checks, then other addresses one check each. Slots then free
// one at a time. An other address is served after at most one grant per
// address queued before it: its wait depends on how many addresses wait,
// not on how many checks they queued.
func TestFairQueueOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		slots  int
		floods map[string]int // address -> checks queued
		others []string       // one check each, queued after the floods
	}{
		{"one flooding address", 1, map[string]int{"10.0.0.1": 200}, []string{"10.0.0.9"}},
		{"three flooding addresses", 1, map[string]int{"10.0.0.1": 80, "10.0.0.2": 80, "10.0.0.3": 80}, []string{"10.0.0.9"}},
		{"two others", 2, map[string]int{"10.0.0.1": 200}, []string{"10.0.0.8", "10.0.0.9"}},
		{"no flood", 1, nil, []string{"10.0.0.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(cheap, tt.slots, QueuePerAddress(0))
			for range tt.slots {
				if err := h.acquire(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			type grant struct {
				addr string
				seq  int
				done chan struct{}
			}
			grants := make(chan grant)
			var wg sync.WaitGroup
			enqueue := func(addr string, seq int) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := h.acquire(from(addr)); err != nil {
						t.Errorf("acquire from %s: %v", addr, err)
						return
					}
					g := grant{addr, seq, make(chan struct{})}
					grants <- g
					<-g.done
					h.release()
				}()
			}
			queued := 0
			for addr, n := range tt.floods {
				for i := range n {
					enqueue(addr, i)
					queued++
					waitFor(t, h, tt.slots, queued) // FIFO within an address
				}
			}
			for _, addr := range tt.others {
				enqueue(addr, 0)
				queued++
				waitFor(t, h, tt.slots, queued)
			}

			// Free one slot at a time, so grants are seen in their order.
			var running []grant
			position := map[string]int{}
			next := map[string]int{}
			for i := range queued {
				if i < tt.slots {
					h.release()
				} else {
					close(running[0].done)
					running = running[1:]
				}
				g := <-grants
				if g.seq != next[g.addr] {
					t.Errorf("%s: check %d served before %d", g.addr, g.seq, next[g.addr])
				}
				next[g.addr]++
				if _, ok := tt.floods[g.addr]; !ok {
					position[g.addr] = i
				}
				running = append(running, g)
			}
			for _, g := range running {
				close(g.done)
			}
			wg.Wait()
			bound := len(tt.floods) + len(tt.others)
			for _, addr := range tt.others {
				if p, ok := position[addr]; !ok || p >= bound {
					t.Errorf("%s served %dth of %d (ok %v), want before the %dth", addr, p, queued, ok, bound)
				}
			}
			if held, waiting := h.queue.state(); held != 0 || waiting != 0 {
				t.Errorf("%d held, %d waiting at the end", held, waiting)
			}
		})
	}
}

// TestFairQueuePerAddressBound: an address with its queue full is refused
// at once with ErrBusy, others still queue, and a caller without an
// address (the operator's CLI) is not bounded.
func TestFairQueuePerAddressBound(t *testing.T) {
	t.Parallel()
	h := New(cheap, 1, QueuePerAddress(3))
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var served atomic.Int32
	verify := func(ctx context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := h.Verify(ctx, "pw", enc); err != nil || !ok {
				t.Errorf("Verify = %v, %v", ok, err)
				return
			}
			served.Add(1)
		}()
	}
	for i := range 3 {
		verify(from("10.0.0.1"))
		waitFor(t, h, 1, i+1)
	}
	// The fourth from the same address: refused, without waiting (a
	// deadline error would mean it queued).
	ctx, cancel := context.WithTimeout(from("10.0.0.1"), time.Minute)
	defer cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Verify", func() error { _, err := h.Verify(ctx, "pw", enc); return err }},
		{"Hash", func() error { _, err := h.Hash(ctx, "pw"); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, ErrBusy) {
			t.Errorf("%s with the address's queue full: %v, want ErrBusy", tt.name, err)
		}
	}
	h.Dummy(ctx, "pw") // returns at once too
	waitFor(t, h, 1, 3)

	for i := range 3 {
		verify(from("10.0.0.2"))
		waitFor(t, h, 1, 4+i)
	}
	for i := range 10 {
		verify(context.Background())
		waitFor(t, h, 1, 7+i)
	}
	h.release()
	wg.Wait()
	if n := served.Load(); n != 16 {
		t.Errorf("%d of 16 queued checks served", n)
	}
	if held, waiting := h.queue.state(); held != 0 || waiting != 0 {
		t.Errorf("%d held, %d waiting at the end", held, waiting)
	}
}

// TestFairQueueCancel: a waiter whose context ends leaves the queue at
// once and holds nothing; the others are served. Under churn (many
// addresses, random give-ups) nothing leaks: every caller returns, no
// slot stays held, nobody stays queued.
func TestFairQueueCancel(t *testing.T) {
	t.Parallel()
	h := New(cheap, 1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(from("10.0.0.1"))
	gaveUp := make(chan error)
	go func() { gaveUp <- h.acquire(ctx) }()
	waitFor(t, h, 1, 1)
	got := make(chan string, 2)
	for _, addr := range []string{"10.0.0.1", "10.0.0.2"} {
		go func() {
			if err := h.acquire(from(addr)); err != nil {
				t.Errorf("acquire %s: %v", addr, err)
			}
			got <- addr
			h.release()
		}()
		// each behind the one that gives up
		waitFor(t, h, 1, map[string]int{"10.0.0.1": 2, "10.0.0.2": 3}[addr])
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	waitFor(t, h, 1, 2)
	h.release()
	for range 2 {
		<-got
	}
	waitFor(t, h, 0, 0)

	// Churn.
	h = New(cheap, 2)
	var wg sync.WaitGroup
	var ok, cancelled atomic.Int32
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(from(fmt.Sprintf("10.0.1.%d", i%7)))
			defer cancel()
			if i%3 == 0 {
				go cancel() // races with the grant
			}
			err := h.acquire(ctx)
			switch {
			case err == nil:
				ok.Add(1)
				h.release()
			case errors.Is(err, context.Canceled):
				cancelled.Add(1)
			case errors.Is(err, ErrBusy):
			default:
				t.Errorf("acquire: %v", err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("callers still waiting")
	}
	if ok.Load() == 0 {
		t.Error("nobody was served")
	}
	waitFor(t, h, 0, 0)
	if n := len(h.queue.addrs) + len(h.queue.ring); n != 0 {
		t.Errorf("%d queue entries left", n)
	}
}

// TestOnWait: the hook sees every check that got a slot, with its wait.
func TestOnWait(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits []time.Duration
	h := New(cheap, 1, OnWait(func(d time.Duration) {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
	}))
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := h.Hash(from("10.0.0.1"), "pw"); done <- err }()
	waitFor(t, h, 1, 1)
	h.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 3 {
		t.Fatalf("%d observations, want 3", len(waits))
	}
	for _, d := range waits {
		if d < 0 {
			t.Errorf("negative wait %v", d)
		}
	}
}
