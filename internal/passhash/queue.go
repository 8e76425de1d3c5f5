package passhash

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sshelf/sshelf/internal/clientaddr"
)

// ErrBusy means the caller's address already has as many password checks
// waiting as it may: the check is refused at once rather than queued.
var ErrBusy = errors.New("too many password checks from your address, try again later")

// DefaultQueuePerAddress is how many checks one client address may have
// waiting at once. The pre-authentication connection cap of the SSH server
// already bounds concurrent logins per address to about this; the queue
// bound also covers download passwords, which come from sessions.
const DefaultQueuePerAddress = 16

// fairQueue hands out a fixed number of slots. When none is free, waiters
// queue per client address (clientaddr.From of their context) and freed
// slots go round-robin between the addresses that wait, so that a waiter
// is served after at most one grant per other waiting address, however
// many the others have queued: a flood from a few addresses cannot starve
// the rest.
type fairQueue struct {
	perAddr int                 // waiters per address, beyond which ErrBusy; <= 0: no bound
	onWait  func(time.Duration) // observes each successful acquire's wait; may be nil

	size int // slots in all

	mu    sync.Mutex
	free  int
	addrs map[string]*addrQueue
	ring  []*addrQueue // addresses with waiters, in serving order
	// An address stays in ring, possibly with no waiter left (its waiters
	// gave up), until its turn: removal is lazy, so giving up is O(queue).
}

type addrQueue struct {
	addr    string
	waiters []*waiter
	inRing  bool
}

type waiter struct {
	ready   chan struct{} // closed when granted
	granted bool          // under fairQueue.mu
}

func newFairQueue(slots, perAddr int, onWait func(time.Duration)) *fairQueue {
	return &fairQueue{perAddr: perAddr, onWait: onWait, size: slots, free: slots, addrs: make(map[string]*addrQueue)}
}

// acquire takes a slot, waiting in ctx's address's queue if none is free.
// It fails at once with ErrBusy when that queue is full, and with ctx's
// error when ctx ends first; on failure it holds no slot.
func (q *fairQueue) acquire(ctx context.Context) error {
	start := time.Now()
	addr := clientaddr.From(ctx)
	q.mu.Lock()
	if q.free > 0 {
		q.free--
		q.mu.Unlock()
		q.observe(start)
		return nil
	}
	aq := q.addrs[addr]
	if aq == nil {
		aq = &addrQueue{addr: addr}
		q.addrs[addr] = aq
	}
	// A caller without an address is the operator's (sshelf user), never
	// a client's: it is not bounded.
	if addr != "" && q.perAddr > 0 && len(aq.waiters) >= q.perAddr {
		q.mu.Unlock()
		return ErrBusy
	}
	w := &waiter{ready: make(chan struct{})}
	aq.waiters = append(aq.waiters, w)
	if !aq.inRing {
		aq.inRing = true
		q.ring = append(q.ring, aq)
	}
	q.mu.Unlock()

	select {
	case <-w.ready:
		q.observe(start)
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	if w.granted {
		// Granted as ctx ended: pass the slot on.
		q.mu.Unlock()
		q.release()
	} else {
		aq.remove(w)
		q.mu.Unlock()
	}
	return fmt.Errorf("password hashing: %w", ctx.Err())
}

// release gives a slot back: to the next waiting address in turn, or to the
// free pool when nobody waits.
func (q *fairQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ring) > 0 {
		aq := q.ring[0]
		q.ring[0] = nil
		q.ring = q.ring[1:]
		if len(aq.waiters) == 0 {
			aq.inRing = false
			delete(q.addrs, aq.addr)
			continue
		}
		w := aq.waiters[0]
		aq.waiters[0] = nil
		aq.waiters = aq.waiters[1:]
		if len(aq.waiters) > 0 {
			q.ring = append(q.ring, aq) // its next waiter, after the others
		} else {
			aq.inRing = false
			delete(q.addrs, aq.addr)
		}
		w.granted = true
		close(w.ready)
		return
	}
	q.free++
}

func (aq *addrQueue) remove(w *waiter) {
	for i, x := range aq.waiters {
		if x == w {
			aq.waiters = append(aq.waiters[:i], aq.waiters[i+1:]...)
			return
		}
	}
}

func (q *fairQueue) observe(start time.Time) {
	if q.onWait != nil {
		q.onWait(time.Since(start))
	}
}

// state is how many slots are held and how many callers wait, for tests.
func (q *fairQueue) state() (held, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, aq := range q.addrs {
		waiting += len(aq.waiters)
	}
	return q.size - q.free, waiting
}
