package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// The rules 1-8 of the contract, through ssh exec commands, with two users.

const (
	alicePW = "alice-account-pw"
	bobPW   = "bob-account-pw"
)

// Rule 1: listing shows public files only; a hidden file is never listed to
// anyone, its owner included.
func TestRule1HiddenNeverListed(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", alicePW, "public.txt", []byte("pub"))
	put(t, srv, "alice", alicePW, "secret.txt", []byte("hid"), "--hidden")
	put(t, srv, "bob", bobPW, "bobs-hidden", []byte("b"), "--hidden")

	for _, u := range []struct{ user, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		names := lsNames(t, srv, u.user, u.pw)
		if strings.Join(names, ",") != "public.txt" {
			t.Errorf("ls as %s: want only public.txt, got %q", u.user, names)
		}
		r := do(t, srv, u.user, u.pw, nil, "ls", "-l")
		mustOK(t, r, "ls -l")
		if bytes.Contains(r.stdout, []byte("secret.txt")) || bytes.Contains(r.stdout, []byte("bobs-hidden")) {
			t.Errorf("ls -l as %s lists a hidden file: %q", u.user, r.stdout)
		}
		r = do(t, srv, u.user, u.pw, nil, "ls", "--json")
		mustOK(t, r, "ls --json")
		if bytes.Contains(r.stdout, []byte("secret.txt")) || bytes.Contains(r.stdout, []byte("bobs-hidden")) {
			t.Errorf("ls --json as %s lists a hidden file: %q", u.user, r.stdout)
		}
		for _, fi := range lsJSON(t, srv, u.user, u.pw) {
			if fi.Visibility != "public" {
				t.Errorf("ls --json as %s: entry %+v is not public", u.user, fi)
			}
		}
	}
}

// Rule 2: a file known by its exact name can be downloaded, summed and
// inspected whatever its visibility.
func TestRule2ExactNameWhateverVisibility(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("hidden but reachable\n")
	put(t, srv, "alice", alicePW, "secret.txt", content, "--hidden")

	for _, u := range []struct{ user, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		if got := get(t, srv, u.user, u.pw, "secret.txt"); !bytes.Equal(got, content) {
			t.Errorf("get hidden as %s: %q", u.user, got)
		}
		r := do(t, srv, u.user, u.pw, nil, "sum", "secret.txt")
		mustOK(t, r, "sum hidden")
		if want := testkit.SHA256Hex(content) + "  secret.txt\n"; string(r.stdout) != want {
			t.Errorf("sum hidden as %s: want %q got %q", u.user, want, r.stdout)
		}
		fi := info(t, srv, u.user, u.pw, "secret.txt")
		if fi.Visibility != "hidden" || fi.Owner != "alice" || fi.SHA256 != testkit.SHA256Hex(content) {
			t.Errorf("info hidden as %s: %+v", u.user, fi)
		}
	}
	// Not a prefix or pattern match: only the exact name.
	expectErr(t, do(t, srv, "bob", bobPW, nil, "get", "secret"), 1, "sshelf: get: secret: ", "get by prefix")
	expectErr(t, do(t, srv, "bob", bobPW, nil, "get", "'secret.*'"), 1, "sshelf: get: secret.*: ", "get by pattern")
	expectErr(t, do(t, srv, "bob", bobPW, nil, "get", "SECRET.TXT"), 1, "sshelf: get: SECRET.TXT: ", "get by other case")
}

// Rule 3: downloading a protected file needs its download password, the
// owner's download too; from --password or SSHELF_FILE_PASSWORD, the flag
// winning.
func TestRule3ProtectedDownload(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("report body\n")
	put(t, srv, "alice", alicePW, "secret.txt", content, "--password", "s3cret")

	for _, u := range []struct{ user, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		expectErr(t, do(t, srv, u.user, u.pw, nil, "get", "secret.txt"), 1, "sshelf: get: secret.txt: ", "get protected without password as "+u.user)
		expectErr(t, do(t, srv, u.user, u.pw, nil, "get", "secret.txt", "--password", "wrong"), 1, "sshelf: get: secret.txt: ", "get protected with wrong password as "+u.user)
		if got := get(t, srv, u.user, u.pw, "secret.txt", "--password", "s3cret"); !bytes.Equal(got, content) {
			t.Errorf("get protected with password as %s: %q", u.user, got)
		}
		// From the SSH environment.
		r := doEnv(t, srv, u.user, u.pw, []string{"SSHELF_FILE_PASSWORD=s3cret"}, nil, "get", "secret.txt")
		if r.code != 0 || !bytes.Equal(r.stdout, content) {
			t.Errorf("get with SetEnv SSHELF_FILE_PASSWORD as %s: %v", u.user, r)
		}
		r = doEnv(t, srv, u.user, u.pw, []string{"SSHELF_FILE_PASSWORD=wrong"}, nil, "get", "secret.txt")
		expectErr(t, r, 1, "sshelf: get: secret.txt: ", "get with wrong SSHELF_FILE_PASSWORD as "+u.user)
	}
	// --password wins over the environment, in both directions.
	r := doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=wrong"}, nil, "get", "secret.txt", "--password", "s3cret")
	if r.code != 0 || !bytes.Equal(r.stdout, content) {
		t.Errorf("--password right, env wrong: want success, got %v", r)
	}
	r = doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=s3cret"}, nil, "get", "secret.txt", "--password", "wrong")
	expectErr(t, r, 1, "sshelf: get: secret.txt: ", "--password wrong, env right")

	// Info works without the password, but shows the hash to the owner
	// only; sum needs the password (e2e/protected_hash_test.go for more).
	fi := info(t, srv, "bob", bobPW, "secret.txt")
	if !fi.Protected || fi.SHA256 != "" {
		t.Errorf("info protected as bob: %+v", fi)
	}
	r = do(t, srv, "bob", bobPW, nil, "sum", "secret.txt")
	expectErr(t, r, 1, "sshelf: sum: secret.txt: ", "sum protected without password")
	if !strings.HasSuffix(string(r.stderr), ": download password required\n") {
		t.Errorf("sum protected without password: %q", r.stderr)
	}
	// No password in the error.
	r = do(t, srv, "bob", bobPW, nil, "get", "secret.txt", "--password", "WrongGuess77")
	if bytes.Contains(r.stderr, []byte("WrongGuess77")) || bytes.Contains(r.stderr, []byte("s3cret")) {
		t.Errorf("error shows a password: %q", r.stderr)
	}
}

// Rule 4: only the owner may delete, replace, hide, unhide or change
// protection; removing or changing protection also needs the current
// download password.
func TestRule4OwnerOnly(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("alice's file\n")
	put(t, srv, "alice", alicePW, "pub.txt", content)
	put(t, srv, "alice", alicePW, "hid.txt", content, "--hidden")
	put(t, srv, "alice", alicePW, "prot.txt", content, "--password", "pp")
	snapshot := func() []fileInfo {
		return []fileInfo{info(t, srv, "alice", alicePW, "pub.txt"), info(t, srv, "alice", alicePW, "hid.txt"), info(t, srv, "alice", alicePW, "prot.txt")}
	}
	before := snapshot()

	refused := []struct {
		args  []string
		stdin []byte
	}{
		{[]string{"rm", "pub.txt"}, nil},
		{[]string{"rm", "hid.txt"}, nil},
		{[]string{"rm", "prot.txt"}, nil},
		{[]string{"hide", "pub.txt"}, nil},
		{[]string{"unhide", "hid.txt"}, nil},
		{[]string{"protect", "pub.txt", "--password", "bobs"}, nil},
		{[]string{"protect", "prot.txt", "--password", "bobs", "--old-password", "pp"}, nil},
		{[]string{"unprotect", "prot.txt", "--password", "pp"}, nil},
		{[]string{"put", "pub.txt"}, []byte("bob overwrites")},
		{[]string{"put", "hid.txt"}, []byte("bob overwrites")},
		{[]string{"put", "prot.txt", "--password", "pp"}, []byte("bob overwrites")},
	}
	for _, c := range refused {
		r := do(t, srv, "bob", bobPW, c.stdin, c.args...)
		expectErr(t, r, 1, "sshelf: "+c.args[0]+": "+c.args[1]+": ", "bob "+strings.Join(c.args, " "))
	}
	// rm of a protected file with its password via the environment, still not the owner.
	r := doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=pp"}, nil, "rm", "prot.txt")
	expectErr(t, r, 1, "sshelf: rm: prot.txt: ", "bob rm prot.txt with the file password")

	after := snapshot()
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("refused operations changed a file: before %+v after %+v", before[i], after[i])
		}
	}
	if got := get(t, srv, "alice", alicePW, "pub.txt"); !bytes.Equal(got, content) {
		t.Errorf("pub.txt content changed: %q", got)
	}
	if got := get(t, srv, "alice", alicePW, "prot.txt", "--password", "pp"); !bytes.Equal(got, content) {
		t.Errorf("prot.txt content changed: %q", got)
	}

	// The owner may remove a protected file. ("Removing or changing a file's
	// protection also needs its current download password" is read as
	// unprotect/protect; rm takes no password in the contract's syntax.)
	r = do(t, srv, "alice", alicePW, nil, "rm", "prot.txt")
	mustOK(t, r, "owner rm protected")
	expectErr(t, do(t, srv, "alice", alicePW, nil, "info", "prot.txt"), 1, "sshelf: info: prot.txt: ", "info after owner rm")

	// The owner may do the rest.
	mustOK(t, do(t, srv, "alice", alicePW, nil, "hide", "pub.txt"), "owner hide")
	mustOK(t, do(t, srv, "alice", alicePW, nil, "unhide", "hid.txt"), "owner unhide")
	mustOK(t, do(t, srv, "alice", alicePW, nil, "rm", "pub.txt"), "owner rm")
}

// Rule 5: put onto an existing name: the owner replaces it atomically;
// anyone else is refused and nothing changes. A reader of the old version
// gets the old version whole.
func TestRule5Replace(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	v1 := []byte("version one\n")
	v2 := []byte("version two, longer\n")
	put(t, srv, "alice", alicePW, "doc.txt", v1)
	put(t, srv, "alice", alicePW, "doc.txt", v2)
	if got := get(t, srv, "bob", bobPW, "doc.txt"); !bytes.Equal(got, v2) {
		t.Fatalf("after owner replace: %q", got)
	}
	fi := info(t, srv, "bob", bobPW, "doc.txt")
	if fi.Size != int64(len(v2)) || fi.SHA256 != testkit.SHA256Hex(v2) || fi.Owner != "alice" {
		t.Fatalf("info after replace: %+v", fi)
	}

	r := do(t, srv, "bob", bobPW, []byte("bob's version"), "put", "doc.txt")
	expectErr(t, r, 1, "sshelf: put: doc.txt: ", "bob put onto alice's name")
	if got := get(t, srv, "bob", bobPW, "doc.txt"); !bytes.Equal(got, v2) {
		t.Fatalf("refused put changed the content: %q", got)
	}
	if fi2 := info(t, srv, "bob", bobPW, "doc.txt"); fi2 != fi {
		t.Fatalf("refused put changed the file: %+v -> %+v", fi, fi2)
	}
	// Also when hidden: the name is taken.
	put(t, srv, "alice", alicePW, "hid.txt", v1, "--hidden")
	expectErr(t, do(t, srv, "bob", bobPW, []byte("x"), "put", "hid.txt"), 1, "sshelf: put: hid.txt: ", "bob put onto alice's hidden name")
	if got := get(t, srv, "alice", alicePW, "hid.txt"); !bytes.Equal(got, v1) {
		t.Fatalf("refused put changed the hidden file: %q", got)
	}
}

func TestRule5ReaderOfOldVersionGetsItWhole(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	old := testkit.RandBytes(t, 6<<20)
	put(t, srv, "alice", alicePW, "big.bin", old)

	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	cmd := srv.sshCommand(ctx, sshOpts{user: "bob", pw: bobPW}, "get", "big.bin")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(stdout, head); err != nil {
		t.Fatalf("reading the start of the download: %v (%s)", err, stderr.String())
	}
	// The download is under way (and stalled on us): replace the file.
	neu := testkit.RandBytes(t, 1<<20)
	put(t, srv, "alice", alicePW, "big.bin", neu)

	rest, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	code := exitCode(cmd.Wait())
	got := append(head, rest...)
	if code != 0 {
		t.Fatalf("download across a replace: exit %d, stderr %q", code, stderr.String())
	}
	if !bytes.Equal(got, old) {
		t.Fatalf("download across a replace: got %d bytes sha %s, want the old version (%d bytes sha %s)",
			len(got), testkit.SHA256Hex(got), len(old), testkit.SHA256Hex(old))
	}
	if got := get(t, srv, "bob", bobPW, "big.bin"); !bytes.Equal(got, neu) {
		t.Fatalf("after the replace: got %d bytes, want the new version", len(got))
	}
}

// Rule 7: every download is checked against the recorded SHA-256 as it
// streams; a mismatch ends the transfer with an error.
func TestRule7CorruptContentFailsDownload(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := testkit.RandBytes(t, 256<<10)
	put(t, srv, "alice", alicePW, "c.bin", content)

	// Find the stored content on disk (layout-agnostic) and flip one byte.
	var found []string
	for _, rel := range contentFiles(t, srv.dataDir()) {
		p := filepath.Join(srv.dataDir(), rel)
		b, err := os.ReadFile(p)
		if err == nil && bytes.Equal(b, content) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		t.Skip("stored content not found verbatim under the data dir (compressed or encrypted?); cannot corrupt it")
	}
	for _, p := range found {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			// Stored read-only: make it writable for the corruption.
			if err := os.Chmod(p, 0o600); err != nil {
				t.Fatal(err)
			}
			if f, err = os.OpenFile(p, os.O_WRONLY, 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.WriteAt([]byte{content[len(content)/2] ^ 0xff}, int64(len(content)/2)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	r := do(t, srv, "bob", bobPW, nil, "get", "c.bin")
	if r.code == 0 {
		t.Fatalf("download of corrupted content succeeded (got %d bytes, equal to original: %v)", len(r.stdout), bytes.Equal(r.stdout, content))
	}
	if len(r.stderr) == 0 {
		t.Errorf("download of corrupted content: no error message")
	}
	if bytes.Equal(r.stdout, content) {
		t.Errorf("corrupted download printed the original content?")
	}
	t.Logf("corrupted download: exit %d, %d bytes, stderr %q", r.code, len(r.stdout), r.stderr)
}

// Rule 8: wrong download passwords are counted per account and file, per
// file and per address; after N within the window that account's tries on
// that file are refused, even with the right password, with an error
// saying to try again later; so are other accounts' tries on the file and
// the address's tries, but not the owner's.
func TestRule8WrongFilePasswordThrottle(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--file-password-max-failures", "3", "--file-password-window", "10m", "--file-password-lockout", "10m")
	content := []byte("throttled\n")
	put(t, srv, "alice", alicePW, "t.txt", content, "--password", "right")
	put(t, srv, "alice", alicePW, "other.txt", content, "--password", "right")
	login(t, srv, "bob", bobPW)
	from := func(bind, user, pw string, setEnv []string, args ...string) result {
		t.Helper()
		return srv.ssh(t, sshOpts{user: user, pw: pw, bind: bind, setEnv: setEnv}, args...)
	}

	for i := 0; i < 3; i++ {
		r := from("127.0.0.2", "bob", bobPW, nil, "get", "t.txt", "--password", "wrong")
		expectErr(t, r, 1, "sshelf: get: t.txt: ", "wrong password try")
	}
	r := from("127.0.0.2", "bob", bobPW, nil, "get", "t.txt", "--password", "right")
	expectErr(t, r, 1, "sshelf: get: t.txt: ", "right password after 3 wrong")
	if !strings.Contains(strings.ToLower(string(r.stderr)), "later") {
		t.Errorf("locked-out error should say to try again later: %q", r.stderr)
	}
	// The environment variable path is locked too.
	r = from("127.0.0.2", "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=right"}, "get", "t.txt")
	expectErr(t, r, 1, "sshelf: get: t.txt: ", "right env password while locked out")
	// Per address: bob's address is refused for another file too.
	r = from("127.0.0.2", "bob", bobPW, nil, "get", "other.txt", "--password", "right")
	expectErr(t, r, 1, "sshelf: get: other.txt: ", "another file from the locked address")
	// Per file: another account from another address is refused this file.
	r = from("127.0.0.3", "carol", "carol-pw", nil, "get", "t.txt", "--password", "right")
	expectErr(t, r, 1, "sshelf: get: t.txt: ", "another account on the locked file")

	// The owner is not locked out of her file.
	if got := get(t, srv, "alice", alicePW, "t.txt", "--password", "right"); !bytes.Equal(got, content) {
		t.Errorf("alice's get: %q", got)
	}
	// Per account and file: bob, from another address, gets another file.
	r = from("127.0.0.3", "bob", bobPW, nil, "get", "other.txt", "--password", "right")
	if r.code != 0 || !bytes.Equal(r.stdout, content) {
		t.Errorf("bob's get of another file from another address: %v", r)
	}
}

// Below the threshold a right password still works; wrong tries of
// different accounts on one file add up.
func TestRule8BelowThreshold(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--file-password-max-failures", "3")
	content := []byte("x")
	put(t, srv, "alice", alicePW, "t.txt", content, "--password", "right")
	from := func(bind, user, pw string, args ...string) result {
		t.Helper()
		return srv.ssh(t, sshOpts{user: user, pw: pw, bind: bind}, args...)
	}
	for i := 0; i < 2; i++ {
		expectErr(t, from("127.0.0.2", "bob", bobPW, "get", "t.txt", "--password", "wrong"), 1, "sshelf: get: t.txt: ", "wrong try")
	}
	if r := from("127.0.0.2", "bob", bobPW, "get", "t.txt", "--password", "right"); r.code != 0 || !bytes.Equal(r.stdout, content) {
		t.Errorf("bob after 2 wrong tries: %v", r)
	}
	// bob's two wrong tries still count on the file: carol's first makes
	// three and locks it for everyone but its owner.
	r := from("127.0.0.3", "carol", "carol-pw", "get", "t.txt", "--password", "wrong")
	expectErr(t, r, 1, "sshelf: get: t.txt: ", "carol's wrong try")
	if !strings.Contains(string(r.stderr), "later") {
		t.Errorf("the file's third wrong try: %q, want locked", r.stderr)
	}
	if got := get(t, srv, "alice", alicePW, "t.txt", "--password", "right"); !bytes.Equal(got, content) {
		t.Errorf("the owner's get: %q", got)
	}
}

// Rule 4, through put: changing a file's protection needs its current
// download password, so the owner's replace of a protected file without
// that password must either be refused (old file intact) or keep the file
// protected by the same password.
func TestRule4ReplaceKeepsProtection(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cases := []struct {
		label string
		flags []string
	}{
		{"put without --password", nil},
		{"put with another --password", []string{"--password", "NEWPW"}},
	}
	for i, c := range cases {
		name := "prot" + string(rune('0'+i)) + ".txt"
		old := []byte("old protected content\n")
		put(t, srv, "alice", alicePW, name, old, "--password", "OLDPW")
		args := append([]string{"put", name}, c.flags...)
		r := do(t, srv, "alice", alicePW, []byte("replacement\n"), args...)
		if r.code != 0 {
			// Refused: the old file is intact and protected.
			expectErr(t, r, 1, "sshelf: put: "+name+": ", c.label)
			if got := get(t, srv, "bob", bobPW, name, "--password", "OLDPW"); !bytes.Equal(got, old) {
				t.Errorf("%s: refused replace changed the file", c.label)
			}
			continue
		}
		fi := info(t, srv, "bob", bobPW, name)
		if !fi.Protected {
			t.Errorf("%s: the owner's replace without the current download password dropped the protection (rule 4): %+v", c.label, fi)
			continue
		}
		if r := do(t, srv, "bob", bobPW, nil, "get", name, "--password", "OLDPW"); r.code != 0 {
			t.Errorf("%s: the owner's replace without the current download password changed it (rule 4): get with the old password: %v", c.label, r)
		}
	}
}
