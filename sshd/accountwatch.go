package sshd

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"
)

// AccountCheckInterval is how often the server looks whether the accounts
// of its connections still exist. `sshelf user del` is another process:
// it disables the account, and waits two intervals before it frees the name.
const AccountCheckInterval = time.Second

// activeAccounts is what the watch asks of auth.Accounts.
type activeAccounts interface {
	// Active returns, of names, the accounts that exist and are not being
	// deleted, with their creation times.
	Active(ctx context.Context, names []string) (map[string]int64, error)
}

// accountWatch closes the connections of accounts that are deleted or
// being deleted, with one query per interval for all of them.
type accountWatch struct {
	accounts activeAccounts
	log      *slog.Logger
	every    time.Duration

	mu     sync.Mutex
	byUser map[string]map[userConn]*liveConn
}

// userConn is an authenticated SSH connection (a *gossh.ServerConn).
type userConn interface {
	User() string
	RemoteAddr() net.Addr
	Close() error
}

// liveConn is a watched connection.
type liveConn struct {
	conn    userConn
	created int64 // the account's creation time; -1 until known
	closed  bool
}

func newAccountWatch(accounts activeAccounts, log *slog.Logger, every time.Duration) *accountWatch {
	return &accountWatch{accounts: accounts, log: log, every: every, byUser: make(map[string]map[userConn]*liveConn)}
}

// add registers c, when it opens a session, until ctx ends with the
// connection. Every session comes through here, and c.User() is the
// account the connection finally logged in to. The account's creation time
// is read at the first session, so a later account of the same name is
// not taken for this one.
func (w *accountWatch) add(ctx context.Context, c userConn) {
	if w == nil {
		return
	}
	user := c.User()
	w.mu.Lock()
	set := w.byUser[user]
	if set == nil {
		set = make(map[userConn]*liveConn)
		w.byUser[user] = set
	}
	_, seen := set[c]
	if !seen {
		lc := &liveConn{conn: c, created: -1}
		set[c] = lc
		context.AfterFunc(ctx, func() { w.remove(user, c) })
	}
	w.mu.Unlock()
	if !seen {
		w.check(ctx, []string{user})
	}
}

func (w *accountWatch) remove(user string, c userConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if set := w.byUser[user]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(w.byUser, user)
		}
	}
}

// run checks every interval until ctx ends.
func (w *accountWatch) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		names := make([]string, 0, len(w.byUser))
		for n := range w.byUser {
			names = append(names, n)
		}
		w.mu.Unlock()
		if len(names) > 0 {
			w.check(ctx, names)
		}
	}
}

// check closes the connections of names whose accounts are not active, or
// are another account than the one they logged in to.
func (w *accountWatch) check(ctx context.Context, names []string) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	active, err := w.accounts.Active(qctx, names)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("account check", "err", err)
		}
		return
	}
	var gone []*liveConn
	w.mu.Lock()
	for _, n := range names {
		created, ok := active[n]
		for _, lc := range w.byUser[n] {
			if ok && lc.created < 0 {
				lc.created = created
			}
			if (!ok || lc.created != created) && !lc.closed {
				lc.closed = true
				gone = append(gone, lc)
			}
		}
	}
	w.mu.Unlock()
	for _, lc := range gone {
		w.log.Info("connection closed: account deleted", "user", lc.conn.User(), "addr", lc.conn.RemoteAddr().String())
		lc.conn.Close()
	}
}

// start runs the watch until the returned function is called.
func (w *accountWatch) start() (stop func()) {
	if w == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
