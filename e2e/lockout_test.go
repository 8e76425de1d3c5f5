package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The contract's refusal texts, as OpenSSH prints the server's banners.
const (
	addrLockedText    = "sshelf: too many failed logins from %s; try again in "
	accountLockedText = "sshelf: account %s is locked for new addresses after too many failed logins; try again in "
	accountLockedHint = " or log in from an address you used before or with your key"
	signupCappedText  = "sshelf: too many accounts created from %s; try again in "
)

// loginAs runs whoami as o.user and reports the result; banners are shown.
func loginAs(t *testing.T, srv *server, o sshOpts) result {
	t.Helper()
	o.banners = true
	r := srv.ssh(t, o, "whoami")
	if r.timedOut {
		t.Fatalf("login %s from %s timed out", o.user, o.bind)
	}
	return r
}

func wantLogin(t *testing.T, r result, user, what string) {
	t.Helper()
	if r.code != 0 || string(r.stdout) != user+"\n" {
		t.Errorf("%s: want whoami %s, got %v", what, user, r)
	}
}

// wantRefused checks a refused login whose stderr holds every text in want.
func wantRefused(t *testing.T, r result, what string, want ...string) {
	t.Helper()
	if r.code != 255 || len(r.stdout) != 0 {
		t.Errorf("%s: want refused (255), got %v", what, r)
		return
	}
	for _, w := range want {
		if !strings.Contains(string(r.stderr), w) {
			t.Errorf("%s: stderr %q lacks %q", what, r.stderr, w)
		}
	}
}

// Smart lockout through OpenSSH: wrong passwords for alice from 127.0.0.2
// lock that address out of everything, and alice's account for new
// addresses only; alice still gets in from an address she used and with
// her key; `sshelf user unlock` lifts either while the server runs; and
// both survive a restart.
func TestSmartLockoutOpenSSH(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--login-max-failures", "10", "--login-window", "10m", "--login-lockout", "10m",
		"--login-delay", "1ms")
	const pw = "alice-right-pw"
	login(t, srv, "alice", pw) // from 127.0.0.1: a known address from now on
	login(t, srv, "bob", "bob-pw")
	keyPath, pub := newKey(t)
	srv.inst.mustUserCLI(t, []byte(pub), "key", "add", "alice")

	for i := range 10 {
		r := loginAs(t, srv, sshOpts{user: "alice", pw: fmt.Sprint("guess-", i), bind: "127.0.0.2"})
		wantRefused(t, r, fmt.Sprintf("wrong password %d", i+1))
		if strings.Contains(string(r.stderr), "too many") {
			t.Fatalf("wrong password %d already refused by the limit: %q", i+1, r.stderr)
		}
	}
	addrText := fmt.Sprintf(addrLockedText, "127.0.0.2")
	accountText := fmt.Sprintf(accountLockedText, "alice")
	check := func(srv *server, when string) {
		t.Helper()
		wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: "guess-more", bind: "127.0.0.2"}),
			when+": the 11th wrong password", addrText)
		wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2"}),
			when+": the right password from the attacking address", addrText)
		wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", key: keyPath, bind: "127.0.0.2"}),
			when+": alice's key from the attacking address", addrText)
		wantRefused(t, loginAs(t, srv, sshOpts{user: "bob", pw: "bob-pw", bind: "127.0.0.2"}),
			when+": another account from the attacking address", addrText)
		wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw}),
			"alice", when+": alice from 127.0.0.1, where she logged in before")
		wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", key: keyPath, bind: "127.0.0.3"}),
			"alice", when+": alice's key from 127.0.0.3")
		wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.4"}),
			when+": alice's password from a new address", accountText, accountLockedHint)
		wantLogin(t, loginAs(t, srv, sshOpts{user: "bob", pw: "bob-pw", bind: "127.0.0.4"}),
			"bob", when+": another account from a new address")
	}
	check(srv, "locked")
	srv = srv.restart(t)
	check(srv, "after a restart")

	// Unlocking the address, while the server runs: it gets in again,
	// but alice's account stays locked for addresses she never used.
	r := srv.inst.mustUserCLI(t, nil, "unlock", "127.0.0.2")
	if !strings.Contains(string(r.stdout), "unlocked address 127.0.0.2") {
		t.Errorf("unlock 127.0.0.2: stdout %q", r.stdout)
	}
	wantLogin(t, loginAs(t, srv, sshOpts{user: "bob", pw: "bob-pw", bind: "127.0.0.2"}), "bob", "bob from the unlocked address")
	wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.5"}), "alice from a new address", accountText)
	r = srv.inst.mustUserCLI(t, nil, "unlock", "alice")
	if !strings.Contains(string(r.stdout), "unlocked account alice") {
		t.Errorf("unlock alice: stdout %q", r.stdout)
	}
	wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.5"}), "alice", "alice from a new address after unlock")

	// Unlocking refuses a data directory that does not exist.
	r = cli(t, nil, nil, "user", "unlock", "alice", "--data", srv.inst.base+"/no-such-dir")
	if r.code != 1 || !strings.Contains(string(r.stderr), "data directory") {
		t.Errorf("unlock with a missing data directory: %v", r)
	}
}

// Signup says the account was created, and open signup creates at most N
// accounts per address per hour.
func TestSignupBannerAndCap(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--signup-per-address-per-hour", "2")
	r := loginAs(t, srv, sshOpts{user: "new1", pw: "pw1", bind: "127.0.0.2"})
	wantLogin(t, r, "new1", "signup")
	if !strings.Contains(string(r.stderr), "sshelf: account new1 created; remember this password") {
		t.Errorf("signup: stderr %q lacks the created banner", r.stderr)
	}
	r = loginAs(t, srv, sshOpts{user: "new1", pw: "pw1", bind: "127.0.0.2"})
	wantLogin(t, r, "new1", "second login")
	if strings.Contains(string(r.stderr), "created") {
		t.Errorf("second login: stderr %q says created", r.stderr)
	}
	wantLogin(t, loginAs(t, srv, sshOpts{user: "new2", pw: "pw2", bind: "127.0.0.2"}), "new2", "second signup")
	wantRefused(t, loginAs(t, srv, sshOpts{user: "new3", pw: "pw3", bind: "127.0.0.2"}),
		"third signup from one address", fmt.Sprintf(signupCappedText, "127.0.0.2"))
	wantLogin(t, loginAs(t, srv, sshOpts{user: "new1", pw: "pw1", bind: "127.0.0.2"}), "new1", "an account from the capped address")
	wantLogin(t, loginAs(t, srv, sshOpts{user: "new3", pw: "pw3", bind: "127.0.0.3"}), "new3", "signup from another address")
	if ok, _ := accountExists(t, srv, "new3"); !ok {
		t.Error("new3 not listed")
	}
	srv.inst.mustUserCLI(t, nil, "unlock", "127.0.0.2")
	wantLogin(t, loginAs(t, srv, sshOpts{user: "new4", pw: "pw4", bind: "127.0.0.2"}), "new4", "signup after unlock")
}

func accountExists(t *testing.T, srv *server, name string) (bool, string) {
	t.Helper()
	r := srv.inst.mustUserCLI(t, nil, "list")
	for _, l := range strings.Split(string(r.stdout), "\n") {
		if l == name {
			return true, string(r.stdout)
		}
	}
	return false, string(r.stdout)
}

// A username longer than any account name is refused, counted against the
// address, and logged cut to 64 bytes.
func TestLongUsername(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--login-max-failures", "3", "--login-delay", "1ms")
	long := strings.Repeat("x", 2000)
	for i := range 3 {
		wantRefused(t, loginAs(t, srv, sshOpts{user: long, pw: "pw", bind: "127.0.0.2"}), fmt.Sprint("long username ", i))
	}
	wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: "pw", bind: "127.0.0.2"}),
		"a valid name after three long ones", fmt.Sprintf(addrLockedText, "127.0.0.2"))
	if ok, list := accountExists(t, srv, long); ok || list != "" {
		t.Errorf("accounts after long usernames: %q", list)
	}
	n := 0
	for _, m := range srv.jsonLines() {
		if m["msg"] != "login" || m["addr"] == nil || !strings.HasPrefix(m["addr"].(string), "127.0.0.2:") {
			continue
		}
		u, _ := m["user"].(string)
		if u == "alice" {
			continue
		}
		n++
		if want := `"` + long[:64] + `"`; u != want || m["user_bytes"] != float64(2000) {
			b, _ := json.Marshal(m)
			t.Errorf("login line %s: want user %q and user_bytes 2000", b, want)
		}
	}
	if n == 0 {
		t.Error("no login line for the long usernames")
	}
	if strings.Contains(srv.logText(), long[:65]) {
		t.Error("the log holds more than 64 bytes of the long username")
	}
}

// Rule 8 across accounts and per address, through OpenSSH: five fresh
// accounts from five addresses together get no more wrong tries at one
// file than the limit; one address is limited across files and accounts;
// the owner is never locked out of her own file by others' guesses.
func TestDownloadGuessesAcrossAccounts(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--file-password-max-failures", "3", "--file-password-window", "10m", "--file-password-lockout", "10m",
		"--file-password-delay", "1ms")
	for _, name := range []string{"f", "g1", "g2"} {
		put(t, srv, "alice", alicePW, name, []byte("secret "+name+"\n"), "--password", "right")
	}
	get1 := func(user, bind, file, pw string) result {
		t.Helper()
		r := srv.ssh(t, sshOpts{user: user, pw: user + "-pw", bind: bind}, "get", file, "--password", pw)
		if r.timedOut {
			t.Fatalf("get %s as %s timed out", file, user)
		}
		return r
	}
	wrong, throttled := 0, 0
	for i := range 5 {
		for j := range 2 {
			r := get1(fmt.Sprint("fresh", i), fmt.Sprintf("127.0.0.%d", 10+i), "f", fmt.Sprintf("guess%d-%d", i, j))
			expectErr(t, r, 1, "sshelf: get: f: ", "a fresh account's guess")
			switch {
			case strings.Contains(string(r.stderr), "try again later"):
				throttled++
			case strings.Contains(string(r.stderr), "wrong download password"):
				wrong++
			default:
				t.Errorf("guess: %v", r)
			}
		}
	}
	// The third wrong try locks the file (answered as throttled).
	if wrong != 2 || throttled != 8 {
		t.Errorf("five fresh accounts: %d wrong, %d throttled; want 2 and 8", wrong, throttled)
	}
	expectErr(t, get1("fresh9", "127.0.0.19", "f", "right"), 1, "sshelf: get: f: ", "the right password for a locked file")
	if got := get(t, srv, "alice", alicePW, "f", "--password", "right"); string(got) != "secret f\n" {
		t.Errorf("the owner's get: %q", got)
	}

	// One address: its tries count across accounts and files.
	for i, file := range []string{"g1", "g2", "g1"} {
		r := get1(fmt.Sprint("same", i), "127.0.0.20", file, "bad")
		expectErr(t, r, 1, "sshelf: get: "+file+": ", "a guess from one address")
	}
	r := get1("same9", "127.0.0.20", "g2", "right")
	expectErr(t, r, 1, "sshelf: get: g2: ", "the right password from a locked address")
	if !strings.Contains(string(r.stderr), "later") {
		t.Errorf("locked address: %q should say to try again later", r.stderr)
	}
	r = srv.ssh(t, sshOpts{user: "alice", pw: alicePW, bind: "127.0.0.20"}, "get", "g2", "--password", "right")
	if r.code != 0 || string(r.stdout) != "secret g2\n" {
		t.Errorf("the owner from the locked address: %v", r)
	}
	if r := get1("same9", "127.0.0.21", "g2", "right"); r.code != 0 || string(r.stdout) != "secret g2\n" {
		t.Errorf("the right password from another address: %v", r)
	}
	srv.inst.mustUserCLI(t, nil, "unlock", "127.0.0.20")
	if r := get1("same9", "127.0.0.20", "g2", "right"); r.code != 0 {
		t.Errorf("after unlock: %v", r)
	}
}
