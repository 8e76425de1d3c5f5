// Package throttle limits attempts per key (an address, an account, an
// account and file). An attempt takes its slot on every key before the slow
// check it guards and gives it back only if the check succeeds, so attempts
// sent at once get no more checks than the limit allows. The counts live in
// a Store shared by every process serving the same catalog.
package throttle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy sets when attempts slow answers down and when they lock a key out.
type Policy struct {
	MaxFailures int           // attempts within Window that block the key; <= 0 disables
	Window      time.Duration // how far back attempts count
	Lockout     time.Duration // how long a key whose failures reach MaxFailures stays locked; 0: no lock, only the window's cap
	// Delay for the n-th attempt (n >= 1 counts the current one):
	// BaseDelay doubled per attempt past the second, capped at MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration // 0: an hour
}

// Enabled reports whether the policy limits anything.
func (p Policy) Enabled() bool { return p.MaxFailures > 0 }

// Refused is the error of an attempt on a blocked key: which key, and until
// when it stays blocked.
type Refused struct {
	Key   string
	Until time.Time
	Wait  time.Duration // from the refusal to Until, rounded up to a second
}

func (r *Refused) Error() string {
	return fmt.Sprintf("%s: too many attempts, try again in %v", r.Key, r.Wait)
}

// Store keeps the attempts and lockouts of every key. Each method is one
// transaction, atomic across every process sharing the store, so two
// servers cannot both take a key's last slot. A key is blocked at now when
// it is locked, or when it holds p.MaxFailures attempts not yet expired.
type Store interface {
	// Reserve records attempt id on every key at now, counting until
	// now+p.Window, unless a key is blocked: then it records nothing and
	// returns the first blocked key, in keys' order. n is the largest
	// number of attempts a key holds, this one included.
	Reserve(ctx context.Context, p Policy, id int64, keys []string, now time.Time) (n int, refused *Refused, err error)
	// Fail keeps attempt id as a failure. A key whose failures reach
	// p.MaxFailures is locked until now+p.Lockout (if Lockout > 0) and its
	// count starts over; locked reports whether that happened.
	Fail(ctx context.Context, p Policy, id int64, keys []string, now time.Time) (locked bool, err error)
	// Refund deletes attempt id from keys, and every attempt (but not a
	// lockout in force) of the keys in forget.
	Refund(ctx context.Context, id int64, keys, forget []string) error
	// Blocked returns the first key of keys blocked at now, or nil.
	Blocked(ctx context.Context, p Policy, keys []string, now time.Time) (*Refused, error)
	// Clear deletes the attempts and lockouts of keys and of every key
	// that starts with one of prefixes; it returns how many keys had any.
	Clear(ctx context.Context, keys, prefixes []string) (int, error)
}

// Limiter applies one Policy to keys kept in a Store.
type Limiter struct {
	store  Store
	policy Policy
	now    func() time.Time
}

// New returns a Limiter with policy p over store. A nil store is allowed
// only with a disabled policy.
func New(store Store, p Policy) *Limiter {
	if store == nil && p.Enabled() {
		panic("throttle: an enabled policy needs a store")
	}
	return &Limiter{store: store, policy: p, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Policy returns the limiter's policy.
func (l *Limiter) Policy() Policy {
	if l == nil {
		return Policy{}
	}
	return l.policy
}

// Store returns the limiter's store.
func (l *Limiter) Store() Store { return l.store }

func (l *Limiter) enabled() bool { return l != nil && l.policy.Enabled() }

// Reserve takes one attempt's slot on every key at once, before the check
// it guards. It returns a *Refused error if a key is blocked.
func (l *Limiter) Reserve(ctx context.Context, keys ...string) (*Ticket, error) {
	keys = distinct(keys)
	if !l.enabled() || len(keys) == 0 {
		return &Ticket{}, nil
	}
	now := l.now()
	id := rand.Int64()
	n, refused, err := l.store.Reserve(ctx, l.policy, id, keys, now)
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	if refused != nil {
		return nil, l.refusal(refused, now)
	}
	return &Ticket{l: l, id: id, keys: keys, n: n}, nil
}

// Blocked returns a *Refused error if a key is blocked now, without taking
// a slot: for attempts that never count, such as public keys.
func (l *Limiter) Blocked(ctx context.Context, keys ...string) error {
	if !l.enabled() || len(keys) == 0 {
		return nil
	}
	now := l.now()
	refused, err := l.store.Blocked(ctx, l.policy, keys, now)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if refused != nil {
		return l.refusal(refused, now)
	}
	return nil
}

// Clear forgets the attempts and lockouts of keys and of the keys starting
// with prefixes, whatever the policy; it returns how many keys had any.
func (l *Limiter) Clear(ctx context.Context, keys, prefixes []string) (int, error) {
	if l == nil || l.store == nil {
		return 0, nil
	}
	return l.store.Clear(ctx, keys, prefixes)
}

func (l *Limiter) refusal(r *Refused, now time.Time) *Refused {
	wait := r.Until.Sub(now)
	if rem := wait % time.Second; rem != 0 {
		wait += time.Second - rem
	}
	return &Refused{Key: r.Key, Until: r.Until, Wait: max(wait, time.Second)}
}

// Ticket is a reserved attempt. Settle it with Fail, Keep or Refund; one
// never settled counts as an attempt until its window passes.
type Ticket struct {
	l    *Limiter
	id   int64
	keys []string
	n    int
}

// Fail keeps the attempt as a failure. It returns how long the caller
// should delay its answer and whether this failure locked a key. It goes on
// when ctx is cancelled: a client that hangs up still pays for its try.
func (t *Ticket) Fail(ctx context.Context) (delay time.Duration, locked bool, err error) {
	if t == nil || t.l == nil {
		return 0, false, nil
	}
	locked, err = t.l.store.Fail(context.WithoutCancel(ctx), t.l.policy, t.id, t.keys, t.l.now())
	if err != nil {
		return 0, false, fmt.Errorf("throttle: %w", err)
	}
	return t.l.policy.delay(t.n), locked, nil
}

// Keep keeps the attempt counted, for limits on things that succeed (a
// signup) rather than on failures.
func (t *Ticket) Keep(ctx context.Context) error {
	_, _, err := t.Fail(ctx)
	return err
}

// Refund gives the slot back (the check succeeded, or never ran) and
// forgets every attempt of the keys in forget.
func (t *Ticket) Refund(ctx context.Context, forget ...string) error {
	if t == nil || t.l == nil {
		return nil
	}
	if err := t.l.store.Refund(context.WithoutCancel(ctx), t.id, t.keys, forget); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

func distinct(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		dup := false
		for _, o := range out {
			dup = dup || o == k
		}
		if !dup {
			out = append(out, k)
		}
	}
	return out
}

// delay is the answer delay for the n-th attempt.
func (p Policy) delay(n int) time.Duration {
	if p.BaseDelay <= 0 || n <= 1 {
		return 0
	}
	// Without MaxDelay, cap at an hour: doubling must not overflow.
	limit := p.MaxDelay
	if limit <= 0 {
		limit = time.Hour
	}
	d := p.BaseDelay
	for i := 2; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
