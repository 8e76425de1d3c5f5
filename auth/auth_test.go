package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	authsqlite "github.com/sshelf/sshelf/auth/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

const addr = "192.0.2.1:50000"

// clock is a manual clock for the login limiters.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type testAccounts struct {
	*auth.Accounts
	db    *sql.DB
	clock *clock
}

func newAccounts(t *testing.T, signupOpen bool, p throttle.Policy) testAccounts {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "accounts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := openAccounts(ctx, db, auth.Config{SignupOpen: signupOpen, Throttle: p})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a.SetClock(c.Now)
	return testAccounts{a, db, c}
}

// openAccounts opens the accounts kept in db by auth/sqlite, with the
// attempts beside them (internal/throttle/sqlitethrottle) unless cfg
// gives a store.
func openAccounts(ctx context.Context, db *sql.DB, cfg auth.Config) (*auth.Accounts, error) {
	store, err := authsqlite.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	if cfg.Attempts == nil {
		if cfg.Attempts, err = sqlitethrottle.Open(ctx, db); err != nil {
			return nil, err
		}
	}
	return auth.New(store, testkit.CheapHasher(4), cfg), nil
}

// lenient never locks within a test.
var lenient = throttle.Policy{MaxFailures: 1000, Window: time.Hour, Lockout: time.Hour}

func TestValidUsername(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"alice", true},
		{"Alice_B-2.x", true},
		{"0", true},
		{"_x", true},
		{"a-", true},
		{"a.", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"-a", false},
		{".a", false},
		{".", false},
		{"..", false},
		{"a b", false},
		{"a/b", false},
		{"a@b", false},
		{"a:b", false},
		{"a\x00", false},
		{"a\n", false},
		{"é", false},
		{"ａ", false}, // fullwidth
		{"a$", false},
		{"a\\b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := auth.ValidUsername(tt.name)
			if tt.ok && err != nil {
				t.Errorf("auth.ValidUsername(%q) = %v", tt.name, err)
			}
			if !tt.ok && !errors.Is(err, auth.ErrBadUsername) {
				t.Errorf("auth.ValidUsername(%q) = %v, want auth.ErrBadUsername", tt.name, err)
			}
		})
	}
}

func TestSignupOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	steps := []struct {
		what, user, password string
		want                 error
	}{
		{"first login creates", "alice", "pw1", nil},
		{"same password", "alice", "pw1", nil},
		{"other password", "alice", "pw2", auth.ErrDenied},
		{"empty password never creates", "bob", "", auth.ErrDenied},
		{"bad username never creates", "-bob", "pw", auth.ErrDenied},
		{"bad username never creates (slash)", "a/b", "pw", auth.ErrDenied},
		{"another new user", "bob", "pwb", nil},
		{"bob's password for alice", "alice", "pwb", auth.ErrDenied},
		{"bob again", "bob", "pwb", nil},
	}
	for _, s := range steps {
		testkit.WantErr(t, s.what, a.Login(ctx, s.user, s.password, addr), s.want)
	}
	names, err := a.List(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"alice", "bob"}) {
		t.Fatalf("List = %q, %v", names, err)
	}
}

// Two first logins at once: one account, created with one of the
// passwords; the other login succeeds only if it used the same one.
func TestSignupOpenRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	pws := []string{"p0", "p1", "p2", "p3", "p4", "p5"}
	errs := make([]error, len(pws))
	var wg sync.WaitGroup
	for i, pw := range pws {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = a.Login(ctx, "carol", pw, addr) }()
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
			testkit.WantErr(t, "the winner logs in again", a.Login(ctx, "carol", pws[i], addr), nil)
		} else {
			testkit.WantErr(t, "loser", err, auth.ErrDenied)
		}
	}
	if winners != 1 {
		t.Fatalf("%d logins succeeded: %v", winners, errs)
	}
}

func TestSignupClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, lenient)
	testkit.WantErr(t, "unknown user", a.Login(ctx, "alice", "pw", addr), auth.ErrDenied)
	if ok, _ := a.Exists(ctx, "alice"); ok {
		t.Fatal("closed signup created an account")
	}
	testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
	testkit.WantErr(t, "Add again", a.Add(ctx, "alice", "other"), auth.ErrExists)
	testkit.WantErr(t, "login", a.Login(ctx, "alice", "pw", addr), nil)
	testkit.WantErr(t, "Add's password unchanged by the second Add", a.Login(ctx, "alice", "other", addr), auth.ErrDenied)
}

// A wrong password and an unknown user get the same answer.
func TestDeniedIsTheSame(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, open := range []bool{false, true} {
		a := newAccounts(t, open, lenient)
		testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
		cases := []struct{ user, password string }{
			{"alice", "wrong"},
			{"alice", ""},
			{"-bad", "pw"},
			{strings.Repeat("x", 65), "pw"},
		}
		if !open {
			cases = append(cases, struct{ user, password string }{"nobody", "pw"})
		}
		for _, c := range cases {
			err := a.Login(ctx, c.user, c.password, addr)
			if err != auth.ErrDenied {
				t.Errorf("open=%v Login(%q, %q) = %v, want exactly auth.ErrDenied", open, c.user, c.password, err)
			}
		}
	}
}

func TestAccountManagement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, lenient)
	tests := []struct {
		what string
		do   func() error
		want error
	}{
		{"add alice", func() error { return a.Add(ctx, "alice", "a1") }, nil},
		{"add bob", func() error { return a.Add(ctx, "bob", "b1") }, nil},
		{"add bad name", func() error { return a.Add(ctx, "bad name", "x") }, auth.ErrBadUsername},
		{"add empty password", func() error { return a.Add(ctx, "carol", "") }, auth.ErrEmptyPass},
		{"add existing", func() error { return a.Add(ctx, "alice", "x") }, auth.ErrExists},
		{"set password", func() error { return a.SetPassword(ctx, "alice", "a2") }, nil},
		{"old password gone", func() error { return a.Login(ctx, "alice", "a1", addr) }, auth.ErrDenied},
		{"new password", func() error { return a.Login(ctx, "alice", "a2", addr) }, nil},
		{"set empty password", func() error { return a.SetPassword(ctx, "alice", "") }, auth.ErrEmptyPass},
		{"set password of nobody", func() error { return a.SetPassword(ctx, "nobody", "x") }, auth.ErrNoAccount},
		{"change with wrong old", func() error { return a.ChangePassword(ctx, "alice", "bad", "a3", addr) }, auth.ErrDenied},
		{"unchanged", func() error { return a.Login(ctx, "alice", "a2", addr) }, nil},
		{"change to empty", func() error { return a.ChangePassword(ctx, "alice", "a2", "", addr) }, auth.ErrEmptyPass},
		{"change", func() error { return a.ChangePassword(ctx, "alice", "a2", "a3", addr) }, nil},
		{"changed", func() error { return a.Login(ctx, "alice", "a3", addr) }, nil},
		{"previous gone", func() error { return a.Login(ctx, "alice", "a2", addr) }, auth.ErrDenied},
		{"delete bob", func() error { return a.Delete(ctx, "bob") }, nil},
		{"bob cannot log in", func() error { return a.Login(ctx, "bob", "b1", addr) }, auth.ErrDenied},
		{"delete bob again", func() error { return a.Delete(ctx, "bob") }, auth.ErrNoAccount},
	}
	for _, tt := range tests {
		testkit.WantErr(t, tt.what, tt.do(), tt.want)
	}
	names, err := a.List(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"alice"}) {
		t.Fatalf("List = %q, %v", names, err)
	}
	for name, want := range map[string]bool{"alice": true, "bob": false, "nobody": false} {
		if got, err := a.Exists(ctx, name); got != want || err != nil {
			t.Errorf("Exists(%q) = %v, %v", name, got, err)
		}
	}
}

// Account passwords are stored only as salted slow hashes.
func TestPasswordStoredHashed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	const pw = "s3cret-passw0rd"
	testkit.WantErr(t, "Add", a.Add(ctx, "alice", pw), nil)
	testkit.WantErr(t, "signup", a.Login(ctx, "bob", pw, addr), nil)
	testkit.WantErr(t, "SetPassword", a.SetPassword(ctx, "carol", pw), auth.ErrNoAccount)
	testkit.WantErr(t, "Add carol", a.Add(ctx, "carol", "x"), nil)
	testkit.WantErr(t, "SetPassword", a.SetPassword(ctx, "carol", pw), nil)
	rows, err := a.db.QueryContext(ctx, `SELECT name, password_hash FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	hashes := map[string]bool{}
	for rows.Next() {
		var name, h string
		if err := rows.Scan(&name, &h); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h, pw) || !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("%s's stored hash %q", name, h)
		}
		if hashes[h] {
			t.Errorf("two accounts with the same password have the same hash (no salt?)")
		}
		hashes[h] = true
	}
	if len(hashes) != 3 {
		t.Errorf("%d rows", len(hashes))
	}
	// Nothing in the database holds the password.
	var n int
	err = a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE instr(password_hash, ?) > 0 OR instr(name, ?) > 0`, pw, pw).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("password found in %d rows (%v)", n, err)
	}
}

func newKey(t *testing.T) (gossh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	k1, line1 := newKey(t)
	k2, line2 := newKey(t)
	k3, _ := newKey(t)

	testkit.WantErr(t, "add key for a new account", a.AddKey(ctx, "robot", line1+" robot@ci\n"), nil)
	testkit.WantErr(t, "add the key again", a.AddKey(ctx, "robot", line1), nil)
	testkit.WantErr(t, "add a key with options", a.AddKey(ctx, "robot", `no-pty,from="10.0.0.0/8" `+line2), nil)
	testkit.WantErr(t, "add a key to an existing account", a.Add(ctx, "alice", "pw"), nil)
	testkit.WantErr(t, "add key alice", a.AddKey(ctx, "alice", line2), nil)
	testkit.WantErr(t, "bad key line", a.AddKey(ctx, "alice", "ssh-ed25519 AAAAnotakey"), auth.ErrBadKey)
	testkit.WantErr(t, "empty key line", a.AddKey(ctx, "alice", ""), auth.ErrBadKey)
	testkit.WantErr(t, "bad username", a.AddKey(ctx, "-x", line1), auth.ErrBadUsername)

	tests := []struct {
		user string
		key  gossh.PublicKey
		want error
	}{
		{"robot", k1, nil},
		{"robot", k2, nil},
		{"robot", k3, auth.ErrDenied},
		{"alice", k2, nil},
		{"alice", k1, auth.ErrDenied},
		{"nobody", k1, auth.ErrDenied},
		{"-x", k1, auth.ErrDenied},
	}
	for _, tt := range tests {
		testkit.WantErr(t, "LoginKey "+tt.user, a.LoginKey(ctx, tt.user, tt.key, addr), tt.want)
	}
	// A key-only account has no password that can match, even with open
	// signup and even the marker itself.
	for _, pw := range []string{"!", "pw", "x"} {
		err := a.Login(ctx, "robot", pw, addr)
		if err != auth.ErrDenied {
			t.Errorf("password login %q to a key-only account: %v, want auth.ErrDenied", pw, err)
		}
	}
	// Adding a key keeps an account's password.
	testkit.WantErr(t, "alice's password", a.Login(ctx, "alice", "pw", addr), nil)
	// Deleting the account deletes its keys.
	testkit.WantErr(t, "delete robot", a.Delete(ctx, "robot"), nil)
	testkit.WantErr(t, "deleted robot's key", a.LoginKey(ctx, "robot", k1, addr), auth.ErrDenied)
	var n int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_keys WHERE name = 'robot'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("robot's keys left: %d (%v)", n, err)
	}
}

// ChangePassword on a key-only account: the old password cannot match,
// and the answer should be a refusal, not a server error.
func TestChangePasswordKeyOnlyAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, lenient)
	_, line := newKey(t)
	testkit.WantErr(t, "AddKey", a.AddKey(ctx, "robot", line), nil)
	for _, old := range []string{"!", "x"} {
		testkit.WantErr(t, "ChangePassword with old "+old, a.ChangePassword(ctx, "robot", old, "new", addr), auth.ErrDenied)
	}
	testkit.WantErr(t, "still no password", a.Login(ctx, "robot", "new", addr), auth.ErrDenied)
}

// Failed logins are counted per address and per account; past the limit
// both are refused until the lockout ends.
func TestLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	policy := throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: 10 * time.Minute}
	const (
		addr1 = "192.0.2.1:1111"
		addr2 = "192.0.2.2:2222"
	)

	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			testkit.WantErr(t, "Add", a.Add(ctx, u, "pw-"+u), nil)
		}
		// Three users, one wrong password each, from one host (any port).
		testkit.WantErr(t, "alice", a.Login(ctx, "alice", "bad", "192.0.2.1:1"), auth.ErrDenied)
		testkit.WantErr(t, "bob", a.Login(ctx, "bob", "bad", "192.0.2.1:2"), auth.ErrDenied)
		testkit.WantErr(t, "nobody", a.Login(ctx, "nobody", "bad", "192.0.2.1:3"), auth.ErrDenied)
		// The address is locked, for every user and the right password.
		testkit.WantErr(t, "dave from the locked address", a.Login(ctx, "dave", "pw-dave", addr1), auth.ErrLocked)
		k, line := newKey(t)
		testkit.WantErr(t, "AddKey", a.AddKey(ctx, "dave", line), nil)
		testkit.WantErr(t, "key login from the locked address", a.LoginKey(ctx, "dave", k, addr1), auth.ErrLocked)
		testkit.WantErr(t, "passwd from the locked address", a.ChangePassword(ctx, "dave", "pw-dave", "x", addr1), auth.ErrLocked)
		// Another address is not.
		testkit.WantErr(t, "alice from elsewhere", a.Login(ctx, "alice", "pw-alice", addr2), nil)
		a.clock.Advance(10 * time.Minute)
		testkit.WantErr(t, "after the lockout", a.Login(ctx, "dave", "pw-dave", addr1), nil)
	})

	t.Run("per account", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
		testkit.WantErr(t, "Add", a.Add(ctx, "bob", "pw"), nil)
		for i, host := range []string{"198.51.100.1:1", "198.51.100.2:1", "[2001:db8::1]:22"} {
			testkit.WantErr(t, "wrong from a new address", a.Login(ctx, "alice", "bad", host), auth.ErrDenied)
			_ = i
		}
		testkit.WantErr(t, "alice from a fresh address, right password", a.Login(ctx, "alice", "pw", "203.0.113.9:1"), auth.ErrLocked)
		testkit.WantErr(t, "bob from a fresh address", a.Login(ctx, "bob", "pw", "203.0.113.9:1"), nil)
		a.clock.Advance(10*time.Minute - time.Second)
		testkit.WantErr(t, "just before the end", a.Login(ctx, "alice", "pw", "203.0.113.9:1"), auth.ErrLocked)
		a.clock.Advance(time.Second)
		testkit.WantErr(t, "at the end", a.Login(ctx, "alice", "pw", "203.0.113.9:1"), nil)
	})

	t.Run("success resets the account count", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
		for range 5 {
			// Two failures then a success, from changing addresses so
			// the per-address count does not lock either.
			testkit.WantErr(t, "wrong", a.Login(ctx, "alice", "bad", addr1), auth.ErrDenied)
			testkit.WantErr(t, "wrong", a.Login(ctx, "alice", "bad", addr2), auth.ErrDenied)
			testkit.WantErr(t, "right", a.Login(ctx, "alice", "pw", "203.0.113.1:1"), nil)
			a.clock.Advance(11 * time.Minute) // let the address counts expire
		}
	})

	t.Run("failures expire after the window", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
		for range 4 {
			testkit.WantErr(t, "wrong", a.Login(ctx, "alice", "bad", addr1), auth.ErrDenied)
			a.clock.Advance(6 * time.Minute)
		}
		testkit.WantErr(t, "right", a.Login(ctx, "alice", "pw", addr1), nil)
	})

	t.Run("wrong old password in passwd counts", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		testkit.WantErr(t, "Add", a.Add(ctx, "alice", "pw"), nil)
		for range 3 {
			testkit.WantErr(t, "passwd wrong", a.ChangePassword(ctx, "alice", "bad", "new", addr1), auth.ErrDenied)
		}
		testkit.WantErr(t, "login", a.Login(ctx, "alice", "pw", addr2), auth.ErrLocked)
		testkit.WantErr(t, "passwd", a.ChangePassword(ctx, "alice", "pw", "new", addr2), auth.ErrLocked)
	})

	t.Run("unknown users count", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, false, policy)
		for range 3 {
			testkit.WantErr(t, "unknown", a.Login(ctx, "ghost", "x", addr1), auth.ErrDenied)
		}
		testkit.WantErr(t, "unknown, locked", a.Login(ctx, "ghost", "x", addr2), auth.ErrLocked)
	})
}

// Answers slow down as failures grow; the delay ends early when the
// caller gives up.
func TestFailureDelayHonoursContext(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, false, throttle.Policy{MaxFailures: 100, Window: time.Hour, Lockout: time.Hour,
		BaseDelay: time.Hour, MaxDelay: time.Hour})
	ctx := context.Background()
	testkit.WantErr(t, "first (no delay)", a.Login(ctx, "x", "y", addr), auth.ErrDenied)
	// The second failure would wait an hour; a caller that gives up gets
	// its answer when it does (the test would time out otherwise). If the
	// deadline passes before the account lookup, that fails instead.
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := a.Login(cctx, "x", "y", addr); !errors.Is(err, auth.ErrDenied) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second: %v", err)
	}
}
