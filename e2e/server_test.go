package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Running the server: host keys, restart, logs, secrets, limits, shutdown.

// keyscan returns the fingerprint lines (bits, fingerprint, type) of the
// server's host keys as ssh-keyscan | ssh-keygen -lf - shows them.
func keyscan(t *testing.T, srv *server) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh-keyscan", "-T", "20", "-p", srv.port, "-t", "ed25519,rsa", srv.host).Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("ssh-keyscan: %v: %q", err, out)
	}
	cmd := exec.CommandContext(ctx, "ssh-keygen", "-lf", "-")
	cmd.Stdin = bytes.NewReader(out)
	fp, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf -: %v (input %q)", err, out)
	}
	// "256 SHA256:xxx [127.0.0.1]:port (ED25519)"
	res := map[string]string{}
	for _, line := range scanLines(fp) {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		res[strings.Trim(f[len(f)-1], "()")] = f[0] + " " + f[1]
	}
	return res
}

func TestHostKeys(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.newKeys = true // the first start makes them
	srv := in.start(t)
	dir := filepath.Join(srv.dataDir(), "hostkeys")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading DATA/hostkeys: %v", err)
	}
	private := 0
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		isPrivate := bytes.Contains(b, []byte("PRIVATE KEY"))
		if isPrivate {
			private++
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("host key %s has mode %o, want 600", e.Name(), perm)
			}
		} else if fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s is group/world writable: %o", e.Name(), fi.Mode().Perm())
		}
	}
	if private != 2 {
		t.Errorf("DATA/hostkeys holds %d private keys, want 2 (ed25519, rsa): %v", private, ents)
	}

	scanned := keyscan(t, srv)
	ed, rsa := scanned["ED25519"], scanned["RSA"]
	if ed == "" || rsa == "" {
		t.Fatalf("ssh-keyscan did not return both an ED25519 and an RSA key: %v", scanned)
	}
	if !strings.HasPrefix(rsa, "3072 ") {
		t.Errorf("RSA host key: %q, want 3072 bits", rsa)
	}
	// The log shows the fingerprints as ssh-keygen -lf does.
	logged := srv.hostKeyFingerprints()
	want := []string{strings.Fields(ed)[1], strings.Fields(rsa)[1]}
	sort.Strings(want)
	if strings.Join(logged, " ") != strings.Join(want, " ") {
		t.Errorf("logged host key fingerprints %q, ssh-keyscan shows %q", logged, want)
	}
	for _, m := range srv.jsonLines() {
		if m["msg"] == "host key" {
			if _, ok := m["type"].(string); !ok {
				t.Errorf("host key log line lacks a type: %v", m)
			}
		}
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	pubC, hidC, protC := []byte("public\n"), []byte("hidden\n"), []byte("protected\n")
	put(t, srv, "alice", alicePW, "pub.txt", pubC)
	put(t, srv, "alice", alicePW, "hid.txt", hidC, "--hidden")
	put(t, srv, "bob", bobPW, "prot.txt", protC, "--password", "fpw")
	srv.inst.mustUserCLI(t, []byte("carol-pw\n"), "add", "carol")
	key, pub := newKey(t)
	srv.inst.mustUserCLI(t, []byte(pub), "key", "add", "alice")
	infoBefore := info(t, srv, "bob", bobPW, "pub.txt")
	fpBefore := srv.hostKeyFingerprints()
	scanBefore := keyscan(t, srv)
	keysBefore := readDir(t, filepath.Join(srv.dataDir(), "hostkeys"))
	if len(fpBefore) != 2 {
		t.Fatalf("want 2 logged host key fingerprints, got %q", fpBefore)
	}

	srv2 := srv.restart(t)

	if fp := srv2.hostKeyFingerprints(); strings.Join(fp, " ") != strings.Join(fpBefore, " ") {
		t.Errorf("host key fingerprints changed on restart: %q -> %q", fpBefore, fp)
	}
	if scan := keyscan(t, srv2); fmt.Sprint(scan) != fmt.Sprint(scanBefore) {
		t.Errorf("ssh-keyscan differs after restart: %v -> %v", scanBefore, scan)
	}
	if keys := readDir(t, filepath.Join(srv.dataDir(), "hostkeys")); fmt.Sprint(keys) != fmt.Sprint(keysBefore) {
		t.Errorf("host key files changed on restart")
	}
	// The known_hosts entry from before still matches (StrictHostKeyChecking
	// would refuse a changed key), and accounts and files are there.
	login(t, srv2, "alice", alicePW)
	login(t, srv2, "carol", "carol-pw")
	if r := tryLogin(t, srv2, "alice", "not-alices-password"); r.code != 255 {
		t.Errorf("alice with a wrong password after restart: want 255, got %v", r)
	}
	r := srv2.ssh(t, sshOpts{user: "alice", key: key}, "whoami")
	if r.code != 0 || string(r.stdout) != "alice\n" {
		t.Errorf("key login after restart: %v", r)
	}
	if names := lsNames(t, srv2, "bob", bobPW); strings.Join(names, ",") != "prot.txt,pub.txt" {
		t.Errorf("ls after restart: %q", names)
	}
	if got := get(t, srv2, "bob", bobPW, "pub.txt"); !bytes.Equal(got, pubC) {
		t.Errorf("pub.txt after restart: %q", got)
	}
	if got := get(t, srv2, "bob", bobPW, "hid.txt"); !bytes.Equal(got, hidC) {
		t.Errorf("hid.txt after restart: %q", got)
	}
	if fi := info(t, srv2, "bob", bobPW, "hid.txt"); fi.Visibility != "hidden" || fi.Owner != "alice" {
		t.Errorf("hid.txt info after restart: %+v", fi)
	}
	expectErr(t, do(t, srv2, "alice", alicePW, nil, "get", "prot.txt"), 1, "sshelf: get: prot.txt: ", "protected get without password after restart")
	if got := get(t, srv2, "alice", alicePW, "prot.txt", "--password", "fpw"); !bytes.Equal(got, protC) {
		t.Errorf("prot.txt after restart: %q", got)
	}
	if fi := info(t, srv2, "bob", bobPW, "pub.txt"); fi != infoBefore {
		t.Errorf("pub.txt info changed on restart: %+v -> %+v", infoBefore, fi)
	}
	// Ownership survives: bob still cannot remove alice's file.
	expectErr(t, do(t, srv2, "bob", bobPW, nil, "rm", "pub.txt"), 1, "sshelf: rm: pub.txt: ", "bob rm after restart")
	srv2.stop(t)
	if w := srv.inst.outsideWrites(t); len(w) != 0 {
		t.Errorf("the server wrote outside its data directory: %q", w)
	}
	list := srv.inst.mustUserCLI(t, nil, "list")
	for _, u := range []string{"alice", "bob", "carol"} {
		if !contains(scanLines(list.stdout), u) {
			t.Errorf("user list after restart lacks %s: %q", u, list.stdout)
		}
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	res := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		res[e.Name()] = testkit.SHA256Hex(b)
	}
	return res
}

// No password, account or file, appears in the logs or in clear anywhere in
// the data directory, nor in an error.
func TestNoPasswordsInLogsOrData(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	srv := in.start(t)
	const (
		acct1   = "AcctSecret-7f3Kq9Zx"
		acct2   = "AcctSecret2-Lm4Pw8Rt"
		wrongPw = "WrongSecret-Bz9Xa3Uf"
		file1   = "FileSecret-Hy6Tn2Vc"
		file2   = "FileSecret2-Qe5Ws1Jd"
		file3   = "FileSecret3-Rr8Mn5Kp"
		cliPw1  = "CliSecret-Np7Gk4Do"
		cliPw2  = "CliSecret2-Vb2Lq6Ty"
		fileW   = "FileWrong-Gh3Zs7Xe"
	)
	secrets := []string{acct1, acct2, wrongPw, file1, file2, file3, cliPw1, cliPw2, fileW}
	var outputs []result
	keep := func(r result) result { outputs = append(outputs, r); return r }

	keep(do(t, srv, "alice", acct1, nil, "whoami"))
	keep(do(t, srv, "alice", wrongPw, nil, "whoami"))
	keep(do(t, srv, "alice", acct1, []byte("body"), "put", "s.txt", "--password", file1))
	keep(do(t, srv, "alice", acct1, []byte("body"), "put", "h.txt", "--hidden", "--password", file3))
	keep(do(t, srv, "bob", bobPW, nil, "get", "s.txt", "--password", fileW))
	keep(doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=" + fileW}, nil, "get", "s.txt"))
	mustOK(t, keep(doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=" + file1}, nil, "get", "s.txt")), "get with env password")
	mustOK(t, keep(do(t, srv, "bob", bobPW, nil, "get", "s.txt", "--password", file1)), "get with password")
	keep(do(t, srv, "alice", acct1, nil, "protect", "s.txt", "--password", file2, "--old-password", fileW))
	mustOK(t, keep(do(t, srv, "alice", acct1, nil, "protect", "s.txt", "--password", file2, "--old-password", file1)), "protect")
	keep(do(t, srv, "alice", acct1, nil, "unprotect", "s.txt", "--password", fileW))
	mustOK(t, keep(do(t, srv, "alice", acct1, nil, "unprotect", "s.txt", "--password", file2)), "unprotect")
	mustOK(t, keep(do(t, srv, "alice", acct1, nil, "protect", "s.txt", "--password", file1)), "protect again")
	keep(do(t, srv, "alice", acct1, []byte(wrongPw+"\n"+acct2+"\n"), "passwd"))
	mustOK(t, keep(do(t, srv, "alice", acct1, []byte(acct1+"\n"+acct2+"\n"), "passwd")), "passwd")
	login(t, srv, "alice", acct2)
	keep(in.mustUserCLI(t, []byte(cliPw1+"\n"), "add", "carol"))
	login(t, srv, "carol", cliPw1)
	keep(in.mustUserCLI(t, []byte(cliPw2+"\n"), "passwd", "carol"))
	login(t, srv, "carol", cliPw2)
	keep(do(t, srv, "carol", cliPw1, nil, "whoami"))

	for _, r := range outputs {
		for _, s := range secrets {
			if bytes.Contains(r.stderr, []byte(s)) || bytes.Contains(r.stdout, []byte(s)) {
				t.Errorf("output shows password %q: %v", s, r)
			}
		}
	}

	srv.stop(t)
	check := func(where string, b []byte) {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("password %q appears in %s", s, where)
			}
		}
	}
	check("the server log", []byte(in.logText()))
	files := allFiles(t, in.dataDir)
	if len(files) == 0 {
		t.Fatal("data dir is empty?")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(p, b)
	}
	if !strings.Contains(in.logText(), "alice") {
		t.Errorf("the log never names the user alice; is there an audit log?")
	}
}

// One audit line per operation with the user, command, file name.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", alicePW, "audited-file.txt", []byte("12345"))
	get(t, srv, "bob", bobPW, "audited-file.txt")
	found := func(user, command string) bool {
		for _, m := range srv.jsonLines() {
			var hasUser, hasCmd, hasName bool
			for _, v := range m {
				s := fmt.Sprint(v)
				hasUser = hasUser || s == user
				hasCmd = hasCmd || s == command || strings.HasPrefix(s, command+" ")
				hasName = hasName || strings.Contains(s, "audited-file.txt")
			}
			if hasUser && hasCmd && hasName {
				return true
			}
		}
		return false
	}
	if !pollUntil(5*time.Second, func() bool { return found("alice", "put") && found("bob", "get") }) {
		t.Errorf("no audit log line with user, command and file name for put by alice / get by bob")
	}
}

func TestSignupOpen(t *testing.T) {
	t.Parallel()
	srv := startServer(t) // default: open
	login(t, srv, "newcomer", "first-pw")
	if r := tryLogin(t, srv, "newcomer", "other-pw"); r.code != 255 {
		t.Fatalf("second login with another password: want ssh exit 255, got %v", r)
	}
	login(t, srv, "newcomer", "first-pw")
	// Passwords with spaces, quotes and non-ASCII work.
	login(t, srv, "spacey", `päss wörd "quoted" 'x' \ $HOME`)
	if r := tryLogin(t, srv, "spacey", "päss"); r.code != 255 {
		t.Errorf("a prefix of the password logs in: %v", r)
	}
	list := srv.inst.mustUserCLI(t, nil, "list")
	if !contains(scanLines(list.stdout), "newcomer") {
		t.Errorf("user list lacks the signed-up account: %q", list.stdout)
	}
}

func TestSignupClosedAndUserCommands(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--signup", "closed")
	in := srv.inst

	r1 := tryLogin(t, srv, "dave", "dave-pw")
	if r1.code != 255 {
		t.Fatalf("unknown user with signup closed: want ssh exit 255, got %v", r1)
	}
	in.mustUserCLI(t, []byte("dave-pw\n"), "add", "dave")
	login(t, srv, "dave", "dave-pw")

	// A wrong password and an unknown user get the same answer.
	r2 := tryLogin(t, srv, "dave", "not-daves")
	r3 := tryLogin(t, srv, "nobody", "not-daves")
	if r2.code != 255 || r3.code != 255 {
		t.Fatalf("wrong password / unknown user: want 255, got %v / %v", r2, r3)
	}
	norm := func(b []byte) string {
		s := string(b)
		if _, rest, ok := strings.Cut(s, ": "); ok {
			return rest
		}
		return s
	}
	if norm(r2.stderr) != norm(r3.stderr) {
		t.Errorf("wrong password and unknown user answer differently: %q vs %q", r2.stderr, r3.stderr)
	}

	if r := in.userCLI(t, []byte("again\n"), "add", "dave"); r.code == 0 {
		t.Errorf("user add of an existing name succeeded")
	}
	in.mustUserCLI(t, []byte("erin-pw\n"), "add", "erin")
	list := in.mustUserCLI(t, nil, "list")
	if lines := scanLines(list.stdout); !contains(lines, "dave") || !contains(lines, "erin") || len(lines) != 2 {
		t.Errorf("user list: want dave and erin one a line, got %q", list.stdout)
	}

	in.mustUserCLI(t, []byte("dave-new\n"), "passwd", "dave")
	login(t, srv, "dave", "dave-new")
	if r := tryLogin(t, srv, "dave", "dave-pw"); r.code != 255 {
		t.Errorf("old password after user passwd: want 255, got %v", r)
	}

	put(t, srv, "erin", "erin-pw", "erins.txt", []byte("e"))
	in.mustUserCLI(t, nil, "del", "erin")
	if r := tryLogin(t, srv, "erin", "erin-pw"); r.code != 255 {
		t.Errorf("deleted user logs in: %v", r)
	}
	if lines := scanLines(in.mustUserCLI(t, nil, "list").stdout); contains(lines, "erin") {
		t.Errorf("user list still has erin")
	}
	if r := in.userCLI(t, nil, "del", "nosuchuser"); r.code == 0 {
		t.Errorf("user del of an unknown user succeeded")
	}
	if r := in.userCLI(t, []byte("x\n"), "passwd", "nosuchuser"); r.code == 0 {
		t.Errorf("user passwd of an unknown user succeeded")
	}
}

// Every serve flag has an SSHELF_ environment variable; the user commands
// take SSHELF_DATA.
func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.envOnly = true
	in.env = []string{"SSHELF_SIGNUP=closed", "SSHELF_MAX_FILE_SIZE=10"}
	srv := in.start(t)
	if r := tryLogin(t, srv, "frank", "frank-pw"); r.code != 255 {
		t.Fatalf("SSHELF_SIGNUP=closed: unknown user: want 255, got %v", r)
	}
	r := cli(t, []string{"SSHELF_DATA=" + in.dataDir}, []byte("frank-pw\n"), "user", "add", "frank")
	mustOK(t, r, "user add with SSHELF_DATA")
	login(t, srv, "frank", "frank-pw")
	put(t, srv, "frank", "frank-pw", "ten", []byte("0123456789"))
	expectErr(t, do(t, srv, "frank", "frank-pw", []byte("0123456789A"), "put", "eleven"), 1, "sshelf: put: eleven: ", "put over SSHELF_MAX_FILE_SIZE")
	r = cli(t, []string{"SSHELF_DATA=" + in.dataDir}, nil, "user", "list")
	if !contains(scanLines(r.stdout), "frank") {
		t.Errorf("user list with SSHELF_DATA: %v", r)
	}
}

func TestPublicKeyLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	key, pub := newKey(t)
	srv.inst.mustUserCLI(t, []byte(pub), "key", "add", "alice")
	r := srv.ssh(t, sshOpts{user: "alice", key: key}, "whoami")
	if r.code != 0 || string(r.stdout) != "alice\n" {
		t.Fatalf("key login: %v", r)
	}
	// The key is alice's only.
	login(t, srv, "bob", bobPW)
	if r := srv.ssh(t, sshOpts{user: "bob", key: key}, "whoami"); r.code != 255 {
		t.Errorf("alice's key logs in as bob: %v", r)
	}
	// An unregistered key is refused, for an existing and an unknown user.
	other, _ := newKey(t)
	if r := srv.ssh(t, sshOpts{user: "alice", key: other}, "whoami"); r.code != 255 {
		t.Errorf("unregistered key logs in: %v", r)
	}
	if r := srv.ssh(t, sshOpts{user: "zed", key: other}, "whoami"); r.code != 255 {
		t.Errorf("key login of an unknown user: %v", r)
	}
	// Garbage is not a key.
	if r := srv.inst.userCLI(t, []byte("not a key\n"), "key", "add", "alice"); r.code == 0 {
		t.Errorf("user key add accepted garbage")
	}
	// Commands work with key login.
	put(t, srv, "alice", alicePW, "k.txt", []byte("k"))
	r = srv.ssh(t, sshOpts{user: "alice", key: key, stdin: strings.NewReader("")}, "get", "k.txt")
	if r.code != 0 || string(r.stdout) != "k" {
		t.Errorf("get with key login: %v", r)
	}
}

func TestKeyboardInteractiveLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	promptLog := filepath.Join(t.TempDir(), "prompts")
	r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW, methods: "keyboard-interactive",
		extra: []string{"-o", "PasswordAuthentication=no"},
		env:   []string{"SSHELF_TEST_PROMPT_LOG=" + promptLog}}, "whoami")
	if r.code != 0 || string(r.stdout) != "alice\n" {
		t.Fatalf("keyboard-interactive login: %v", r)
	}
	prompts, _ := os.ReadFile(promptLog)
	if lines := scanLines(prompts); len(lines) != 1 || !strings.Contains(lines[0], "Password:") {
		t.Errorf("keyboard-interactive: want one question with prompt \"Password: \", askpass saw %q", prompts)
	}
	r = srv.ssh(t, sshOpts{user: "alice", pw: "wrong", methods: "keyboard-interactive",
		extra: []string{"-o", "PasswordAuthentication=no"}}, "whoami")
	if r.code != 255 {
		t.Errorf("keyboard-interactive with a wrong password: want 255, got %v", r)
	}
	// Signup through keyboard-interactive too.
	r = srv.ssh(t, sshOpts{user: "kim", pw: "kim-pw", methods: "keyboard-interactive",
		extra: []string{"-o", "PasswordAuthentication=no"}}, "whoami")
	if r.code != 0 || string(r.stdout) != "kim\n" {
		t.Errorf("keyboard-interactive signup: %v", r)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--login-max-failures", "3", "--login-window", "10m", "--login-lockout", "10m")
	login(t, srv, "victim", "right-pw")
	login(t, srv, "bystander", "by-pw")
	pwOnly := func(user, pw, bind string) result {
		r := srv.ssh(t, sshOpts{user: user, pw: pw, bind: bind, methods: "password",
			extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
		if r.timedOut {
			t.Errorf("login %s from %s timed out", user, bind)
		}
		return r
	}
	for i := 0; i < 3; i++ {
		if r := pwOnly("victim", "wrong-pw", "127.0.0.2"); r.code != 255 {
			t.Fatalf("wrong password %d: want 255, got %v", i+1, r)
		}
	}
	// The address is now refused, even with the right password, and for
	// another account (and for signup).
	if r := pwOnly("victim", "right-pw", "127.0.0.2"); r.code != 255 {
		t.Errorf("right password from a locked-out address: want refused (255), got %v", r)
	}
	if r := pwOnly("bystander", "by-pw", "127.0.0.2"); r.code != 255 {
		t.Errorf("another account from a locked-out address: want refused (255), got %v", r)
	}
	if r := pwOnly("brandnew", "new-pw", "127.0.0.2"); r.code != 255 {
		t.Errorf("signup from a locked-out address: want refused (255), got %v", r)
	}
	// Another address is not locked out.
	if r := pwOnly("bystander", "by-pw", "127.0.0.3"); r.code != 0 || string(r.stdout) != "bystander\n" {
		t.Errorf("login from another address: want success, got %v", r)
	}
}

// Failures are also counted per account: failures from several addresses
// lock the account out (per the serve flag: "failed logins per address or
// account within the window that lock out").
func TestLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--login-max-failures", "3", "--login-window", "10m", "--login-lockout", "10m")
	login(t, srv, "target", "right-pw")
	for i, addr := range []string{"127.0.0.5", "127.0.0.6", "127.0.0.7"} {
		r := srv.ssh(t, sshOpts{user: "target", pw: "wrong", bind: addr, methods: "password",
			extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
		if r.code != 255 {
			t.Fatalf("wrong password %d: want 255, got %v", i+1, r)
		}
	}
	r := srv.ssh(t, sshOpts{user: "target", pw: "right-pw", bind: "127.0.0.8", methods: "password",
		extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
	if r.code != 255 {
		t.Errorf("right password for an account with 3 failures from 3 addresses: want refused (255), got %v", r)
	}
	// Another account from the same addresses is fine (no address has 3).
	login(t, srv, "other", "other-pw")
	r = srv.ssh(t, sshOpts{user: "other", pw: "other-pw", bind: "127.0.0.5", methods: "password",
		extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
	if r.code != 0 {
		t.Errorf("another account from an address with 1 failure: %v", r)
	}
}

func TestLoginBelowThreshold(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--login-max-failures", "3")
	login(t, srv, "victim", "right-pw")
	for i := 0; i < 2; i++ {
		r := srv.ssh(t, sshOpts{user: "victim", pw: "wrong", bind: "127.0.0.4", methods: "password",
			extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
		if r.code != 255 {
			t.Fatalf("wrong password: want 255, got %v", r)
		}
	}
	r := srv.ssh(t, sshOpts{user: "victim", pw: "right-pw", bind: "127.0.0.4", methods: "password",
		extra: []string{"-o", "KbdInteractiveAuthentication=no"}}, "whoami")
	if r.code != 0 {
		t.Errorf("right password after 2 of 3 allowed failures: %v", r)
	}
}

// No port forwarding of any kind.
func TestNoForwarding(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)

	// A target that records whether anything reached it.
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var reached atomic.Int32
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			reached.Add(1)
			c.Write([]byte("SSH-2.0-target\r\n"))
			c.Close()
		}
	}()
	tport := target.Addr().(*net.TCPAddr).Port

	t.Run("stdio -W", func(t *testing.T) {
		r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW, noCmd: true, timeout: 30 * time.Second,
			extra: []string{"-W", fmt.Sprintf("127.0.0.1:%d", tport)}})
		if r.code == 0 || r.timedOut || bytes.Contains(r.stdout, []byte("SSH-2.0-target")) {
			t.Errorf("ssh -W: want refused, got %v", r)
		}
	})
	t.Run("remote -R", func(t *testing.T) {
		r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW, noCmd: true, timeout: 30 * time.Second,
			extra: []string{"-N", "-o", "ExitOnForwardFailure=yes", "-R", fmt.Sprintf("127.0.0.1:0:127.0.0.1:%d", tport)}})
		if r.timedOut {
			t.Errorf("ssh -R with ExitOnForwardFailure kept running: the forward was accepted")
		} else if r.code == 0 {
			t.Errorf("ssh -R: want failure, got %v", r)
		}
	})
	t.Run("local -L", func(t *testing.T) {
		lport := freePort(t)
		ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
		defer cancel()
		cmd := srv.sshCommand(ctx, sshOpts{user: "alice", pw: alicePW, noCmd: true,
			extra: []string{"-N", "-o", "ExitOnForwardFailure=yes", "-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:%d", lport, tport)}})
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		defer func() { cmd.Process.Kill(); <-exited }()
		var c net.Conn
		ok := pollUntil(30*time.Second, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			var err error
			c, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", lport), time.Second)
			return err == nil
		})
		if !ok {
			t.Fatalf("ssh -L never listened nor exited; stderr %q", stderr.String())
		}
		if c == nil {
			return // ssh exited: fine, nothing forwarded
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(c)
		if bytes.Contains(b, []byte("SSH-2.0-target")) {
			t.Errorf("ssh -L forwarded a connection to the target")
		}
	})
	if n := reached.Load(); n != 0 {
		t.Errorf("the forwarding target was reached %d times", n)
	}
	// The server is still healthy.
	login(t, srv, "alice", alicePW)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--max-file-size", "1000", "--quota", "2500")
	before := contentFiles(t, srv.dataDir())
	put(t, srv, "alice", alicePW, "a1", bytes.Repeat([]byte("a"), 1000))
	expectErr(t, do(t, srv, "alice", alicePW, bytes.Repeat([]byte("b"), 1001), "put", "a2"), 1, "sshelf: put: a2: ", "put over max file size")
	expectErr(t, do(t, srv, "alice", alicePW, nil, "info", "a2"), 1, "sshelf: info: a2: ", "info after a refused put")
	// A much larger stream is cut off, not swallowed.
	r := do(t, srv, "alice", alicePW, testkit.RandBytes(t, 5<<20), "put", "a3")
	expectErr(t, r, 1, "sshelf: put: a3: ", "put far over max file size")

	put(t, srv, "alice", alicePW, "a4", bytes.Repeat([]byte("c"), 1000))
	// 2000 used of 2500: another 1000 is over quota.
	expectErr(t, do(t, srv, "alice", alicePW, bytes.Repeat([]byte("d"), 1000), "put", "a5"), 1, "sshelf: put: a5: ", "put over quota")
	expectErr(t, do(t, srv, "alice", alicePW, nil, "info", "a5"), 1, "sshelf: info: a5: ", "info after an over-quota put")
	put(t, srv, "alice", alicePW, "a6", bytes.Repeat([]byte("e"), 500))
	// The quota is per account: bob has his own.
	put(t, srv, "bob", bobPW, "b1", bytes.Repeat([]byte("f"), 1000))
	// Freeing space makes room.
	mustOK(t, do(t, srv, "alice", alicePW, nil, "rm", "a1"), "rm a1")
	put(t, srv, "alice", alicePW, "a5", bytes.Repeat([]byte("d"), 1000))
	if n := len(contentFiles(t, srv.dataDir())) - len(before); n > 4 {
		t.Errorf("refused uploads left files: %q", contentFiles(t, srv.dataDir()))
	}
}

// SIGTERM: stop accepting, let transfers in flight finish for a bounded time,
// then abort what is left; an aborted upload leaves nothing behind.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--shutdown-grace", "5s")
	put(t, srv, "alice", alicePW, "base.txt", []byte("base"))
	before := contentFiles(t, srv.dataDir())

	finishing, finIn, finOut, finErr, _ := startUpload(t, srv, "alice", alicePW, "finishing.bin")
	stalled, stIn, _, _, _ := startUpload(t, srv, "alice", alicePW, "stalled.bin")
	finData := testkit.RandBytes(t, 7<<20)
	// More than the windows and buffers hold: both are in flight server-side.
	if _, err := finIn.Write(finData[:6<<20]); err != nil {
		t.Fatal(err)
	}
	if _, err := stIn.Write(testkit.RandBytes(t, 6<<20)); err != nil {
		t.Fatal(err)
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The in-flight upload may still finish.
	if _, err := finIn.Write(finData[6<<20:]); err != nil {
		t.Errorf("writing the rest of an in-flight upload after SIGTERM: %v", err)
	}
	finIn.Close()
	if code := exitCode(finishing.Wait()); code != 0 {
		t.Errorf("in-flight upload after SIGTERM: exit %d, stderr %q", code, finErr.String())
	} else if want := testkit.SHA256Hex(finData) + "  finishing.bin\n"; finOut.String() != want {
		t.Errorf("in-flight upload after SIGTERM printed %q", finOut.String())
	}
	// New connections are not accepted any more.
	if !pollUntil(10*time.Second, func() bool {
		r := srv.ssh(t, sshOpts{user: "alice", pw: alicePW, timeout: 20 * time.Second}, "whoami")
		return r.code != 0
	}) {
		t.Errorf("server still accepts logins 10s after SIGTERM")
	}
	// The stalled upload is aborted within a bound, and the server exits.
	select {
	case <-srv.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("server still running 90s after SIGTERM with a stalled upload")
	}
	t.Logf("server exit after SIGTERM: %v", srv.exitErr)
	stIn.Close()
	_ = stalled.Wait()

	srv2 := srv.inst.start(t)
	if got := get(t, srv2, "bob", bobPW, "finishing.bin"); !bytes.Equal(got, finData) {
		t.Errorf("upload finished during shutdown: got %d bytes after restart", len(got))
	}
	expectErr(t, do(t, srv2, "bob", bobPW, nil, "info", "stalled.bin"), 1, "sshelf: info: stalled.bin: ", "aborted upload after restart")
	after := contentFiles(t, srv2.dataDir())
	if len(after) != len(before)+1 {
		t.Errorf("leftovers after an aborted upload: before %q, after %q (want one more file)", before, after)
	}
}
