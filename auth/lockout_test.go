package auth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
)

// countingHasher counts the slow checks (Verify, Dummy) and hashes, and
// can hold every check at a gate until it is opened.
type countingHasher struct {
	auth.Hasher
	checks, hashes atomic.Int64
	waiting        atomic.Int64  // checks held at the gate
	gate           chan struct{} // nil: no gate
}

func (h *countingHasher) wait() {
	if h.gate != nil {
		h.waiting.Add(1)
		<-h.gate
	}
}

func (h *countingHasher) Verify(ctx context.Context, pw, enc string) (bool, error) {
	h.checks.Add(1)
	h.wait()
	return h.Hasher.Verify(ctx, pw, enc)
}

func (h *countingHasher) Dummy(ctx context.Context, pw string) {
	h.checks.Add(1)
	h.wait()
	h.Hasher.Dummy(ctx, pw)
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hashes.Add(1)
	h.wait()
	return h.Hasher.Hash(ctx, pw)
}

func count(a testAccounts) *countingHasher {
	h := &countingHasher{Hasher: a.Hasher()}
	a.SetHasher(h)
	return h
}

// waitFor polls cond, bounded.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func refusalOf(t *testing.T, err error) *auth.Refusal {
	t.Helper()
	var r *auth.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("%v, want a *auth.Refusal", err)
	}
	return r
}

// A burst of parallel wrong passwords, all in flight (held in the hasher)
// when the right one arrives: the right one is refused, and no more slow
// checks run than the limit allows.
func TestLoginBurst(t *testing.T) {
	t.Parallel()
	const max, burst = 10, 100
	tests := []struct {
		name      string
		signup    bool
		user      func(i int) string // the account of wrong attempt i
		addr      func(i int) string
		rightUser string
		rightAddr string
		knownAddr string // where the right user logged in before; "" none
		want      string // what the right one hits
	}{
		{"one address, one account", false,
			func(int) string { return "alice" }, func(int) string { return "192.0.2.1:1" },
			"alice", "192.0.2.1:2", "", auth.BlockedAddress},
		{"many addresses, one account", false,
			func(int) string { return "alice" }, func(i int) string { return fmt.Sprintf("198.51.100.%d:1", i) },
			"alice", "203.0.113.1:1", "", auth.BlockedAccount},
		{"one address, many accounts (some unknown)", true,
			func(i int) string { return fmt.Sprintf("user%d", i%7) }, func(int) string { return "192.0.2.1:1" },
			"user3", "192.0.2.1:1", "", auth.BlockedAddress},
		{"from the owner's known address", false,
			func(int) string { return "alice" }, func(int) string { return "192.0.2.9:1" },
			"alice", "192.0.2.9:2", "192.0.2.9:3", auth.BlockedAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := newAccounts(t, tt.signup, throttle.Policy{MaxFailures: max, Window: time.Hour, Lockout: time.Hour})
			for i := range 7 {
				testkit.WantErr(t, "Add", a.Add(ctx, fmt.Sprint("user", i), "right"), nil)
			}
			testkit.WantErr(t, "Add", a.Add(ctx, "alice", "right"), nil)
			if tt.knownAddr != "" {
				testkit.WantErr(t, "earlier login", a.Login(ctx, "alice", "right", tt.knownAddr), nil)
			}
			h := count(a)
			h.gate = make(chan struct{})
			var wg sync.WaitGroup
			var settled, denied, refused atomic.Int64
			for i := range burst - 1 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer settled.Add(1)
					err := a.Login(ctx, tt.user(i), fmt.Sprint("wrong", i), tt.addr(i))
					switch {
					case errors.Is(err, auth.ErrDenied):
						denied.Add(1)
					case errors.Is(err, auth.ErrLocked):
						refused.Add(1)
					default:
						t.Errorf("wrong password %d: %v", i, err)
					}
				}()
			}
			// Every wrong attempt is either held in a check or refused.
			waitFor(t, "the burst to reserve", func() bool { return h.waiting.Load()+settled.Load() == burst-1 })
			err := a.Login(ctx, tt.rightUser, "right", tt.rightAddr)
			if r := refusalOf(t, err); r.Blocked != tt.want {
				t.Errorf("right password inside the burst: %v (%s), want blocked %s", err, r.Blocked, tt.want)
			}
			close(h.gate)
			wg.Wait()
			if n := h.checks.Load(); n > max {
				t.Errorf("%d slow checks for a burst of %d, limit %d", n, burst, max)
			}
			if denied.Load() > max || denied.Load()+refused.Load() != burst-1 {
				t.Errorf("%d denied after a check, %d refused", denied.Load(), refused.Load())
			}
		})
	}
}

// Smart lockout: a locked address is refused everything; an account under
// attack refuses passwords from new addresses only; keys work from any
// address that is not locked; unlock lifts either.
func TestSmartLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: 10 * time.Minute})
	const (
		home     = "192.0.2.1:1000"
		attacker = "198.51.100.66:4444"
		cafe     = "203.0.113.5:5555"
		office   = "203.0.113.7:7777"
	)
	testkit.WantErr(t, "Add alice", a.Add(ctx, "alice", "pw"), nil)
	testkit.WantErr(t, "Add bob", a.Add(ctx, "bob", "pw-bob"), nil)
	k, line := newKey(t)
	testkit.WantErr(t, "AddKey", a.AddKey(ctx, "alice", line), nil)
	testkit.WantErr(t, "alice at home", a.Login(ctx, "alice", "pw", home), nil)

	for i := range 3 {
		testkit.WantErr(t, fmt.Sprint("attack ", i), a.Login(ctx, "alice", "guess", attacker), auth.ErrDenied)
	}
	a.clock.Advance(2 * time.Second)
	steps := []struct {
		what    string
		do      func() error
		blocked string // "" success
		wait    time.Duration
	}{
		{"the attacker, right password", func() error { return a.Login(ctx, "alice", "pw", attacker) }, auth.BlockedAddress, 10*time.Minute - 2*time.Second},
		{"the attacker, alice's key", func() error { return a.LoginKey(ctx, "alice", k, attacker) }, auth.BlockedAddress, 0},
		{"the attacker, another account", func() error { return a.Login(ctx, "bob", "pw-bob", attacker) }, auth.BlockedAddress, 0},
		{"alice from home", func() error { return a.Login(ctx, "alice", "pw", home) }, "", 0},
		{"alice from a new address", func() error { return a.Login(ctx, "alice", "pw", cafe) }, auth.BlockedAccount, 10*time.Minute - 2*time.Second},
		{"a wrong password from a new address", func() error { return a.Login(ctx, "alice", "x", cafe) }, auth.BlockedAccount, 0},
		{"alice's key from a new address", func() error { return a.LoginKey(ctx, "alice", k, cafe) }, "", 0},
		{"bob from a new address", func() error { return a.Login(ctx, "bob", "pw-bob", cafe) }, "", 0},
	}
	run := func() {
		t.Helper()
		for _, s := range steps {
			err := s.do()
			if s.blocked == "" {
				testkit.WantErr(t, s.what, err, nil)
				continue
			}
			r := refusalOf(t, err)
			if r.Blocked != s.blocked || s.wait != 0 && r.Wait != s.wait {
				t.Errorf("%s: %v (blocked %s, wait %v), want %s for %v", s.what, err, r.Blocked, r.Wait, s.blocked, s.wait)
			}
		}
	}
	run()

	// A proven key login makes its address known: from there alice's
	// password works while the account is locked.
	testkit.WantErr(t, "key query from the office", a.LoginKey(ctx, "alice", k, office), nil)
	testkit.WantErr(t, "password from the office (key only queried)", a.Login(ctx, "alice", "pw", office), auth.ErrLocked)
	testkit.WantErr(t, "KeyVerified", a.KeyVerified(ctx, "alice", office), nil)
	testkit.WantErr(t, "password from the office (key proven)", a.Login(ctx, "alice", "pw", office), nil)

	// Unlocking the address lifts the address lockout, not the account's.
	done, err := a.Unlock(ctx, "198.51.100.66")
	if err != nil || len(done) != 1 || done[0] != "address 198.51.100.66" {
		t.Fatalf("Unlock address = %q, %v", done, err)
	}
	testkit.WantErr(t, "bob from the unlocked address", a.Login(ctx, "bob", "pw-bob", attacker), nil)
	testkit.WantErr(t, "alice from the unlocked address", a.Login(ctx, "alice", "pw", attacker), auth.ErrLocked)
	done, err = a.Unlock(ctx, "alice")
	if err != nil || len(done) != 1 || done[0] != "account alice" {
		t.Fatalf("Unlock account = %q, %v", done, err)
	}
	testkit.WantErr(t, "alice from a new address after unlock", a.Login(ctx, "alice", "pw", cafe), nil)
	if done, err := a.Unlock(ctx, "alice"); err != nil || len(done) != 0 {
		t.Errorf("Unlock with nothing locked = %q, %v", done, err)
	}
	if _, err := a.Unlock(ctx, "no such/thing"); err == nil {
		t.Error("Unlock of neither a name nor an address succeeded")
	}
}

// Refusals say what is blocked and for how long.
func TestRefusalText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    auth.Refusal
		want string
	}{
		{auth.Refusal{Blocked: auth.BlockedAddress, Address: "127.0.0.2", Account: "alice", Wait: 9*time.Minute + 58*time.Second},
			"too many failed logins from 127.0.0.2; try again in 9m58s"},
		{auth.Refusal{Blocked: auth.BlockedAccount, Address: "127.0.0.4", Account: "alice", Wait: 5 * time.Second},
			"account alice is locked for new addresses after too many failed logins; try again in 5s or log in from an address you used before or with your key"},
		{auth.Refusal{Blocked: auth.BlockedSignup, Address: "::1", Wait: time.Hour},
			"too many accounts created from ::1; try again in 1h0m0s"},
	}
	for _, tt := range tests {
		if got := tt.r.Error(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.r.Blocked, got, tt.want)
		}
		if !errors.Is(&tt.r, auth.ErrLocked) {
			t.Errorf("%s: not auth.ErrLocked", tt.r.Blocked)
		}
	}
}

// An account keeps its most recent good addresses, no more.
func TestKnownAddressesBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, throttle.Policy{MaxFailures: 1, Window: time.Hour, Lockout: time.Hour})
	testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
	for i := range auth.KnownAddresses + 4 {
		a.clock.Advance(time.Second)
		testkit.WantErr(t, "login", a.Login(ctx, "alice", "pw", fmt.Sprintf("192.0.2.%d:1", i)), nil)
	}
	var n int
	if err := a.db.QueryRow(`SELECT COUNT(*) FROM account_addresses WHERE name = 'alice'`).Scan(&n); err != nil || n != auth.KnownAddresses {
		t.Fatalf("%d addresses kept (%v), want %d", n, err, auth.KnownAddresses)
	}
	testkit.WantErr(t, "lock the account", a.Login(ctx, "alice", "bad", "198.51.100.1:1"), auth.ErrDenied)
	testkit.WantErr(t, "the oldest address is forgotten", a.Login(ctx, "alice", "pw", "192.0.2.0:1"), auth.ErrLocked)
	testkit.WantErr(t, "a recent one is known", a.Login(ctx, "alice", "pw", "192.0.2.19:1"), nil)
	testkit.WantErr(t, "Delete", a.Delete(ctx, "alice"), nil)
	if err := a.db.QueryRow(`SELECT COUNT(*) FROM account_addresses`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d addresses left after the account was deleted (%v)", n, err)
	}
}

// A username that can never be an account is refused without hashing,
// and counts against the address.
func TestInvalidUsernameNotHashed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, open := range []bool{false, true} {
		names := []string{strings.Repeat("x", 200_000), strings.Repeat("a", 65), "-x", "a\x00b", "é"}
		a := newAccounts(t, open, throttle.Policy{MaxFailures: len(names), Window: time.Hour, Lockout: time.Hour})
		h := count(a)
		for _, u := range names {
			testkit.WantErr(t, "invalid username", a.Login(ctx, u, "pw", "192.0.2.1:1"), auth.ErrDenied)
		}
		if n := h.checks.Load() + h.hashes.Load(); n != 0 {
			t.Errorf("open=%v: %d hashes for invalid usernames", open, n)
		}
		if r := refusalOf(t, a.Login(ctx, "alice", "pw", "192.0.2.1:2")); r.Blocked != auth.BlockedAddress {
			t.Errorf("open=%v: after invalid usernames: %v", open, r)
		}
	}
}

// Open signup creates at most N accounts per address per hour, counted
// before the hash; a refused signup is no failed login.
func TestSignupCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Signups in flight hold login slots too: a login limit above the burst.
	acc, err := openAccounts(ctx, db, auth.Config{SignupOpen: true, SignupsPerAddressPerHour: 5,
		Throttle: lenient})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	acc.SetClock(c.Now)
	a := testAccounts{acc, db, c}
	h := count(a)
	h.gate = make(chan struct{})

	const burst = 20
	var wg sync.WaitGroup
	var created, capped, settled atomic.Int64
	var someone atomic.Value
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer settled.Add(1)
			made, err := a.Authenticate(ctx, fmt.Sprint("new", i), "pw", "192.0.2.1:1")
			var r *auth.Refusal
			switch {
			case err == nil && made:
				created.Add(1)
				someone.Store(fmt.Sprint("new", i))
			case errors.As(err, &r) && r.Blocked == auth.BlockedSignup:
				capped.Add(1)
			default:
				t.Errorf("signup %d: %v, %v", i, made, err)
			}
		}()
	}
	waitFor(t, "the signups to reserve", func() bool { return h.waiting.Load()+settled.Load() == burst })
	close(h.gate)
	wg.Wait()
	if created.Load() != 5 || capped.Load() != burst-5 || h.hashes.Load() != 5 {
		t.Fatalf("%d created, %d capped, %d hashes; want 5, %d, 5", created.Load(), capped.Load(), h.hashes.Load(), burst-5)
	}
	r := refusalOf(t, a.Login(ctx, "late", "pw", "192.0.2.1:2"))
	if r.Blocked != auth.BlockedSignup || r.Wait != time.Hour {
		t.Errorf("capped signup: %v, want blocked for an hour", r)
	}
	// Refused signups are no failed logins: the address still logs in.
	testkit.WantErr(t, "existing account from the capped address", a.Login(ctx, someone.Load().(string), "pw", "192.0.2.1:3"), nil)
	testkit.WantErr(t, "signup from another address", a.Login(ctx, "other", "pw", "192.0.2.2:1"), nil)
	c.Advance(time.Hour)
	testkit.WantErr(t, "signup an hour later", a.Login(ctx, "late", "pw", "192.0.2.1:2"), nil)
	if done, err := a.Unlock(ctx, "192.0.2.2"); err != nil || len(done) != 1 {
		t.Errorf("Unlock clears the signup count: %q, %v", done, err)
	}
}

// Lockouts are kept in the database: a restarted server still refuses.
func TestLockoutSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	p := throttle.Policy{MaxFailures: 2, Window: time.Hour, Lockout: time.Hour}
	open := func() *auth.Accounts {
		db, err := sqlitedb.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		a, err := openAccounts(ctx, db, auth.Config{Throttle: p})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := open()
	testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
	for range 2 {
		testkit.WantErr(t, "wrong", a.Login(ctx, "alice", "bad", "192.0.2.1:1"), auth.ErrDenied)
	}
	testkit.WantErr(t, "after reopening", open().Login(ctx, "alice", "pw", "192.0.2.1:1"), auth.ErrLocked)
}

// brokenStore fails every reservation, as a store on a full disk does.
type brokenStore struct{ throttle.Store }

func (brokenStore) Reserve(context.Context, throttle.Policy, int64, []string, time.Time) (int, *throttle.Refused, error) {
	return 0, nil, errors.New("database or disk is full")
}

// When attempts cannot be counted, the owner still logs in from an address
// she used; everyone else is refused.
func TestStoreCannotWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := throttle.Policy{MaxFailures: 3, Window: time.Hour, Lockout: time.Hour}
	a, err := openAccounts(ctx, db, auth.Config{Throttle: p})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
	testkit.WantErr(t, "first login", a.Login(ctx, "alice", "pw", "192.0.2.1:1"), nil)
	a.SetLoginLimiter(throttle.New(brokenStore{a.LoginLimiter().Store()}, p))
	testkit.WantErr(t, "owner from a known address", a.Login(ctx, "alice", "pw", "192.0.2.1:2"), nil)
	testkit.WantErr(t, "wrong password from a known address", a.Login(ctx, "alice", "bad", "192.0.2.1:2"), auth.ErrDenied)
	if err := a.Login(ctx, "alice", "pw", "198.51.100.1:1"); err == nil || errors.Is(err, auth.ErrDenied) {
		t.Errorf("a new address while the store cannot write: %v, want the store's error", err)
	}
}
