package sshd

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeAccounts struct {
	mu      sync.Mutex
	created map[string]int64 // active accounts
	queries int
}

func (f *fakeAccounts) Active(ctx context.Context, names []string) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	out := make(map[string]int64)
	for _, n := range names {
		if c, ok := f.created[n]; ok {
			out[n] = c
		}
	}
	return out, nil
}

func (f *fakeAccounts) set(name string, created int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if created < 0 {
		delete(f.created, name)
	} else {
		f.created[name] = created
	}
}

type fakeConn struct {
	user   string
	closed atomic.Bool
}

func (c *fakeConn) User() string         { return c.user }
func (c *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1} }
func (c *fakeConn) Close() error         { c.closed.Store(true); return nil }

// The watch closes the connections of an account deleted or being deleted,
// and those of an old account whose name was signed up again; it leaves
// the others alone.
func TestAccountWatch(t *testing.T) {
	acc := &fakeAccounts{created: map[string]int64{"bob": 100, "carol": 200, "dave": 300}}
	w := newAccountWatch(acc, slog.New(slog.DiscardHandler), time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bob1, bob2, carol, dave := &fakeConn{user: "bob"}, &fakeConn{user: "bob"}, &fakeConn{user: "carol"}, &fakeConn{user: "dave"}
	for _, c := range []*fakeConn{bob1, bob2, bob2, carol, dave} { // bob2 opens two sessions
		w.add(ctx, c)
	}
	if acc.queries != 4 {
		t.Errorf("%d queries for 4 connections' first sessions, want 4", acc.queries)
	}
	stop := w.start()
	defer stop()

	acc.set("bob", -1)    // deleted, or being deleted
	acc.set("carol", 201) // deleted and signed up again
	closed := func() bool { return bob1.closed.Load() && bob2.closed.Load() && carol.closed.Load() }
	for i := 0; i < 1000 && !closed(); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if !closed() {
		t.Fatalf("connections of deleted accounts still open: bob %v %v, carol %v", bob1.closed.Load(), bob2.closed.Load(), carol.closed.Load())
	}
	if dave.closed.Load() {
		t.Errorf("dave's connection was closed")
	}

	// A new session of the new carol is watched as hers.
	carol2 := &fakeConn{user: "carol"}
	w.add(ctx, carol2)
	if carol2.closed.Load() {
		t.Errorf("the new carol's connection was closed")
	}
	// A connection whose account is already being deleted is closed at once.
	acc.set("dave", -1)
	late := &fakeConn{user: "dave"}
	w.add(ctx, late)
	if !late.closed.Load() {
		t.Errorf("a session of an account being deleted was let in")
	}
}

// A connection that ends leaves the watch.
func TestAccountWatchForgets(t *testing.T) {
	acc := &fakeAccounts{created: map[string]int64{"bob": 1}}
	w := newAccountWatch(acc, slog.New(slog.DiscardHandler), time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	w.add(ctx, &fakeConn{user: "bob"})
	cancel()
	gone := func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.byUser) == 0 }
	for i := 0; i < 1000 && !gone(); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if !gone() {
		t.Errorf("an ended connection is still watched")
	}
}
