package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Every exec command of the contract, on the happy path and its outputs.

func TestWhoami(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	stdout, stderr, code := run(t, srv, "alice", "pw-a", nil, "whoami")
	if code != 0 || string(stdout) != "alice\n" || len(stderr) != 0 {
		t.Fatalf("whoami: want exit 0 stdout %q, got exit %d stdout %q stderr %q", "alice\n", code, stdout, stderr)
	}
	stdout, _, code = run(t, srv, "bob", "pw-b", nil, "whoami")
	if code != 0 || string(stdout) != "bob\n" {
		t.Fatalf("whoami as bob: got exit %d stdout %q", code, stdout)
	}
}

var allCommands = []string{"ls", "put", "get", "info", "sum", "rm", "hide", "unhide", "protect", "unprotect", "passwd", "whoami", "help"}

func TestHelp(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := do(t, srv, "alice", "pw", nil, "help")
	mustOK(t, r, "help")
	for _, c := range allCommands {
		if !bytes.Contains(r.stdout, []byte(c)) {
			t.Errorf("help output does not mention %q:\n%s", c, r.stdout)
		}
	}
}

// Without a terminal and without a command: print the help and exit 0.
func TestNoCommandNoTerminalPrintsHelp(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", "pw")
	r := srv.ssh(t, sshOpts{user: "alice", pw: "pw", noCmd: true, extra: []string{"-T"}, stdin: strings.NewReader("")})
	if r.timedOut {
		t.Fatal("ssh -T with no command hung (a shell?)")
	}
	if r.code != 0 {
		t.Fatalf("ssh -T with no command: want exit 0, got %v", r)
	}
	for _, c := range []string{"ls", "put", "get"} {
		if !bytes.Contains(r.stdout, []byte(c)) {
			t.Errorf("no-command output is not the help (lacks %q): %q", c, r.stdout)
		}
	}
	// Shell commands on stdin are not run.
	r = srv.ssh(t, sshOpts{user: "alice", pw: "pw", noCmd: true, extra: []string{"-T"}, stdin: strings.NewReader("echo PWNED-$((6*7))\n")})
	if bytes.Contains(r.stdout, []byte("PWNED-42")) {
		t.Fatalf("a shell ran the input: %v", r)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := testkit.RandBytes(t, 300<<10)
	content[0], content[1000] = 0, '\n' // binary-safe
	put(t, srv, "alice", "pw", "data.bin", content)

	got := get(t, srv, "alice", "pw", "data.bin")
	if !bytes.Equal(got, content) {
		t.Fatalf("get returned %d bytes (sha %s), want %d bytes (sha %s)", len(got), testkit.SHA256Hex(got), len(content), testkit.SHA256Hex(content))
	}
	got = get(t, srv, "bob", "pw-b", "data.bin")
	if !bytes.Equal(got, content) {
		t.Fatal("bob's get differs from the upload")
	}

	fi := info(t, srv, "bob", "pw-b", "data.bin")
	if fi.Name != "data.bin" || fi.Size != int64(len(content)) || fi.Owner != "alice" ||
		fi.Visibility != "public" || fi.Protected || fi.SHA256 != testkit.SHA256Hex(content) {
		t.Fatalf("info: got %+v", fi)
	}
	// The sha256 of what get streams equals the recorded one.
	if testkit.SHA256Hex(got) != fi.SHA256 {
		t.Fatalf("get content sha %s != info sha256 %s", testkit.SHA256Hex(got), fi.SHA256)
	}

	r := do(t, srv, "bob", "pw-b", nil, "sum", "data.bin")
	mustOK(t, r, "sum")
	if want := testkit.SHA256Hex(content) + "  data.bin\n"; string(r.stdout) != want {
		t.Fatalf("sum: want %q, got %q", want, r.stdout)
	}
}

func TestPutEmptyFile(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", "pw", "empty", nil)
	if got := get(t, srv, "alice", "pw", "empty"); len(got) != 0 {
		t.Fatalf("get empty: got %d bytes", len(got))
	}
	fi := info(t, srv, "alice", "pw", "empty")
	if fi.Size != 0 || fi.SHA256 != testkit.SHA256Hex(nil) {
		t.Fatalf("info empty: %+v", fi)
	}
}

// `ssh host put f < f | sha256sum -c` checks the upload end to end.
func TestPutOutputFeedsSha256sum(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum not installed")
	}
	srv := startServer(t)
	dir := t.TempDir()
	content := testkit.RandBytes(t, 10000)
	if err := os.WriteFile(filepath.Join(dir, "report.pdf"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, "alice", "pw", content, "put", "report.pdf")
	mustOK(t, r, "put")
	cmd := exec.Command("sha256sum", "-c")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(r.stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c on put output %q: %v\n%s", r.stdout, err, out)
	}
	r = do(t, srv, "alice", "pw", nil, "sum", "report.pdf")
	mustOK(t, r, "sum")
	cmd = exec.Command("sha256sum", "-c")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(r.stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c on sum output %q: %v\n%s", r.stdout, err, out)
	}
}

func TestLsFormats(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	// Empty server: nothing listed, and --json is an empty array.
	if names := lsNames(t, srv, "alice", "pw"); len(names) != 0 {
		t.Fatalf("ls on empty server: %q", names)
	}
	r := do(t, srv, "alice", "pw", nil, "ls", "--json")
	mustOK(t, r, "ls --json")
	if s := strings.TrimSpace(string(r.stdout)); s != "[]" {
		t.Fatalf("ls --json on empty server: want [], got %q", s)
	}

	put(t, srv, "bob", "pw-b", "charlie.txt", []byte("ccc"))
	put(t, srv, "alice", "pw", "alpha.txt", []byte("a"))
	put(t, srv, "alice", "pw", "bravo.txt", []byte("bb"), "--password", "pp")
	put(t, srv, "alice", "pw", "zz-hidden", []byte("h"), "--hidden")

	names := lsNames(t, srv, "alice", "pw")
	if want := []string{"alpha.txt", "bravo.txt", "charlie.txt"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("ls: want %q (sorted, public only), got %q", want, names)
	}

	// ls -l: one line per public file with size, owner and protection.
	r = do(t, srv, "alice", "pw", nil, "ls", "-l")
	mustOK(t, r, "ls -l")
	lines := scanLines(r.stdout)
	if len(lines) != 3 {
		t.Fatalf("ls -l: want 3 lines, got %q", r.stdout)
	}
	want := []struct {
		name, size, owner string
		prot              bool
	}{{"alpha.txt", "1", "alice", false}, {"bravo.txt", "2", "alice", true}, {"charlie.txt", "3", "bob", false}}
	for i, w := range want {
		fields := strings.Fields(lines[i])
		if len(fields) < 4 || !contains(fields, w.name) || !contains(fields, w.size) || !contains(fields, w.owner) {
			t.Errorf("ls -l line %d %q: want name %s, size %s, owner %s", i, lines[i], w.name, w.size, w.owner)
		}
		if fields[0] != w.name && fields[len(fields)-1] != w.name {
			t.Errorf("ls -l line %d %q: name is neither first nor last field", i, lines[i])
		}
		hasYes := contains(fields, "yes") || contains(fields, "protected")
		hasNo := contains(fields, "no") || contains(fields, "-")
		if w.prot && !hasYes || !w.prot && !hasNo {
			t.Errorf("ls -l line %q: want protected=%v shown", lines[i], w.prot)
		}
	}

	// ls --json: the exact fields.
	list := lsJSON(t, srv, "bob", "pw-b")
	if len(list) != 3 {
		t.Fatalf("ls --json: want 3 entries, got %+v", list)
	}
	for i, w := range want {
		fi := list[i]
		size, _ := strconv.ParseInt(w.size, 10, 64)
		if fi.Name != w.name || fi.Size != size || fi.Owner != w.owner || fi.Protected != w.prot || fi.Visibility != "public" {
			t.Errorf("ls --json[%d] = %+v, want %+v", i, fi, w)
		}
	}
	if list[0].SHA256 != testkit.SHA256Hex([]byte("a")) {
		t.Errorf("ls --json sha256 of alpha.txt: %s", list[0].SHA256)
	}
}

func TestInfoFormats(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("hello info\n")
	put(t, srv, "alice", "pw", "i.txt", content, "--hidden", "--password", "fpw")

	// With the download password: another's protected hash is shown then
	// (rule 3; e2e/protected_hash_test.go covers it without).
	r := do(t, srv, "bob", "pw-b", nil, "info", "i.txt", "--password", "fpw")
	mustOK(t, r, "info")
	kv := map[string]string{}
	for _, line := range scanLines(r.stdout) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Errorf("info line %q is not key: value", line)
			continue
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	want := map[string]string{
		"name": "i.txt", "size": strconv.Itoa(len(content)), "owner": "alice",
		"visibility": "hidden", "protected": "yes", "sha256": testkit.SHA256Hex(content),
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("info %s: want %q, got %q (output %q)", k, v, kv[k], r.stdout)
		}
	}
	if _, ok := kv["uploaded"]; !ok {
		t.Errorf("info lacks uploaded: %q", r.stdout)
	}

	r = do(t, srv, "bob", "pw-b", nil, "info", "i.txt", "--json", "--password", "fpw")
	mustOK(t, r, "info --json")
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(r.stdout), &obj); err != nil {
		t.Fatalf("info --json is not one object: %q", r.stdout)
	}
	fi := checkInfoObject(t, bytes.TrimSpace(r.stdout))
	if fi.Name != "i.txt" || fi.Size != int64(len(content)) || fi.Owner != "alice" || fi.Visibility != "hidden" || !fi.Protected || fi.SHA256 != testkit.SHA256Hex(content) {
		t.Errorf("info --json: %+v", fi)
	}
	if kv["uploaded"] != "" && kv["uploaded"] != fi.Uploaded {
		t.Errorf("info uploaded %q != info --json uploaded %q", kv["uploaded"], fi.Uploaded)
	}
}

func TestRm(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", "pw", "gone.txt", []byte("x"))
	put(t, srv, "alice", "pw", "hid.txt", []byte("y"), "--hidden")
	before := contentFiles(t, srv.dataDir())

	r := do(t, srv, "alice", "pw", nil, "rm", "gone.txt")
	mustOK(t, r, "rm")
	if len(r.stdout) != 0 && !bytes.Contains(r.stdout, []byte("gone.txt")) {
		t.Errorf("rm printed %q", r.stdout)
	}
	expectErr(t, do(t, srv, "alice", "pw", nil, "info", "gone.txt"), 1, "sshelf: info: gone.txt: ", "info after rm")
	expectErr(t, do(t, srv, "alice", "pw", nil, "get", "gone.txt"), 1, "sshelf: get: gone.txt: ", "get after rm")
	if contains(lsNames(t, srv, "alice", "pw"), "gone.txt") {
		t.Error("ls still lists a removed file")
	}
	expectErr(t, do(t, srv, "alice", "pw", nil, "rm", "gone.txt"), 1, "sshelf: rm: gone.txt: ", "rm twice")

	// A hidden file can be removed by exact name.
	mustOK(t, do(t, srv, "alice", "pw", nil, "rm", "hid.txt"), "rm hidden")
	expectErr(t, do(t, srv, "alice", "pw", nil, "info", "hid.txt"), 1, "sshelf: info: hid.txt: ", "info after rm hidden")

	// The name is free again, for anyone.
	put(t, srv, "bob", "pw-b", "gone.txt", []byte("bob's now"))
	if fi := info(t, srv, "bob", "pw-b", "gone.txt"); fi.Owner != "bob" {
		t.Fatalf("re-put after rm: owner %q", fi.Owner)
	}
	// The removed contents do not linger on disk (one file fewer stored
	// than before, since two were removed and one added).
	var after []string
	if !pollUntil(10*time.Second, func() bool {
		after = contentFiles(t, srv.dataDir())
		return len(after) < len(before)
	}) {
		t.Errorf("removed files' contents still on disk: before %q, after %q", before, after)
	}
}

func TestHideUnhide(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", "pw", "f.txt", []byte("f"))
	mustOK(t, do(t, srv, "alice", "pw", nil, "hide", "f.txt"), "hide")
	if contains(lsNames(t, srv, "alice", "pw"), "f.txt") || contains(lsNames(t, srv, "bob", "pw-b"), "f.txt") {
		t.Fatal("hidden file still listed")
	}
	if fi := info(t, srv, "bob", "pw-b", "f.txt"); fi.Visibility != "hidden" {
		t.Fatalf("after hide: visibility %q", fi.Visibility)
	}
	// hide is idempotent for the owner.
	if r := do(t, srv, "alice", "pw", nil, "hide", "f.txt"); r.code != 0 {
		t.Logf("hide of an already hidden file: %v", r)
	}
	mustOK(t, do(t, srv, "alice", "pw", nil, "unhide", "f.txt"), "unhide")
	if !contains(lsNames(t, srv, "bob", "pw-b"), "f.txt") {
		t.Fatal("unhidden file not listed")
	}
	if fi := info(t, srv, "bob", "pw-b", "f.txt"); fi.Visibility != "public" {
		t.Fatalf("after unhide: visibility %q", fi.Visibility)
	}
	expectErr(t, do(t, srv, "alice", "pw", nil, "hide", "nope"), 1, "sshelf: hide: nope: ", "hide missing")
	expectErr(t, do(t, srv, "alice", "pw", nil, "unhide", "nope"), 1, "sshelf: unhide: nope: ", "unhide missing")
}

func TestProtectUnprotect(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("guarded")
	put(t, srv, "alice", "pw", "g.txt", content)

	// protect an unprotected file: no old password needed.
	mustOK(t, do(t, srv, "alice", "pw", nil, "protect", "g.txt", "--password", "one"), "protect")
	if fi := info(t, srv, "alice", "pw", "g.txt"); !fi.Protected {
		t.Fatal("protect did not protect")
	}
	expectErr(t, do(t, srv, "bob", "pw-b", nil, "get", "g.txt"), 1, "sshelf: get: g.txt: ", "get without password after protect")
	if got := get(t, srv, "bob", "pw-b", "g.txt", "--password", "one"); !bytes.Equal(got, content) {
		t.Fatal("get with password: wrong content")
	}

	// Changing protection needs the current password.
	expectErr(t, do(t, srv, "alice", "pw", nil, "protect", "g.txt", "--password", "two"), 1, "sshelf: protect: g.txt: ", "re-protect without --old-password")
	expectErr(t, do(t, srv, "alice", "pw", nil, "protect", "g.txt", "--password", "two", "--old-password", "bad"), 1, "sshelf: protect: g.txt: ", "re-protect with wrong --old-password")
	mustOK(t, do(t, srv, "alice", "pw", nil, "protect", "g.txt", "--password", "two", "--old-password", "one"), "re-protect")
	expectErr(t, do(t, srv, "bob", "pw-b", nil, "get", "g.txt", "--password", "one"), 1, "sshelf: get: g.txt: ", "get with the old password")
	if got := get(t, srv, "bob", "pw-b", "g.txt", "--password", "two"); !bytes.Equal(got, content) {
		t.Fatal("get with new password: wrong content")
	}

	// unprotect needs the current password.
	expectErr(t, do(t, srv, "alice", "pw", nil, "unprotect", "g.txt", "--password", "one"), 1, "sshelf: unprotect: g.txt: ", "unprotect with wrong password")
	if fi := info(t, srv, "alice", "pw", "g.txt"); !fi.Protected {
		t.Fatal("failed unprotect changed the file")
	}
	mustOK(t, do(t, srv, "alice", "pw", nil, "unprotect", "g.txt", "--password", "two"), "unprotect")
	if fi := info(t, srv, "alice", "pw", "g.txt"); fi.Protected {
		t.Fatal("unprotect did not unprotect")
	}
	if got := get(t, srv, "bob", "pw-b", "g.txt"); !bytes.Equal(got, content) {
		t.Fatal("get after unprotect: wrong content")
	}
	expectErr(t, do(t, srv, "alice", "pw", nil, "protect", "nope", "--password", "x"), 1, "sshelf: protect: nope: ", "protect missing")
	expectErr(t, do(t, srv, "alice", "pw", nil, "unprotect", "nope", "--password", "x"), 1, "sshelf: unprotect: nope: ", "unprotect missing")
}

func TestPasswd(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", "old-pass")

	r := do(t, srv, "alice", "old-pass", []byte("wrong-old\nnew-pass\n"), "passwd")
	if r.code != 1 {
		t.Fatalf("passwd with a wrong old password: want exit 1, got %v", r)
	}
	checkOneErrorLine(t, r, "sshelf: passwd: ", "passwd wrong old")
	login(t, srv, "alice", "old-pass")

	r = do(t, srv, "alice", "old-pass", []byte("old-pass\nnew-pass\n"), "passwd")
	mustOK(t, r, "passwd")
	login(t, srv, "alice", "new-pass")
	if r := tryLogin(t, srv, "alice", "old-pass"); r.code != 255 {
		t.Fatalf("login with the old password after passwd: want ssh exit 255, got %v", r)
	}
}

// A command line is split by shell quoting rules.
func TestQuotedNames(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cases := []struct{ arg, name string }{
		{"'my file.txt'", "my file.txt"},
		{`"double quoted.txt"`, "double quoted.txt"},
		{`back\ slash.txt`, "back slash.txt"},
		{`"it's.txt"`, "it's.txt"},
		{"'résumé ✓.txt'", "résumé ✓.txt"},
		{"'semi;colon $(x) `y` & z'", "semi;colon $(x) `y` & z"},
	}
	for _, c := range cases {
		content := []byte("content of " + c.name)
		r := do(t, srv, "alice", "pw", content, "put", c.arg)
		mustOK(t, r, "put "+c.arg)
		if want := testkit.SHA256Hex(content) + "  " + c.name + "\n"; string(r.stdout) != want {
			t.Errorf("put %s: want %q, got %q", c.arg, want, r.stdout)
		}
		r = do(t, srv, "bob", "pw-b", nil, "get", c.arg)
		mustOK(t, r, "get "+c.arg)
		if !bytes.Equal(r.stdout, content) {
			t.Errorf("get %s: got %q", c.arg, r.stdout)
		}
		if fi := info(t, srv, "bob", "pw-b", c.name); fi.Name != c.name {
			t.Errorf("info %q: name %q", c.name, fi.Name)
		}
	}
	names := lsNames(t, srv, "bob", "pw-b")
	for _, c := range cases {
		if !contains(names, c.name) {
			t.Errorf("ls lacks %q: %q", c.name, names)
		}
	}
	// Unquoted, "my file.txt" is two words: get my file.txt is a usage error
	// (too many arguments) or at least not a download of "my file.txt".
	r := do(t, srv, "bob", "pw-b", nil, "get", "my", "file.txt")
	if r.code == 0 {
		t.Errorf("get my file.txt (unquoted) succeeded: %v", r)
	}
}

func TestSha256Flag(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := []byte("checked content\n")
	put(t, srv, "alice", "pw", "ok.txt", content, "--sha256", testkit.SHA256Hex(content))
	if fi := info(t, srv, "alice", "pw", "ok.txt"); fi.SHA256 != testkit.SHA256Hex(content) {
		t.Fatalf("info after put --sha256: %+v", fi)
	}

	before := contentFiles(t, srv.dataDir())
	wrong := testkit.SHA256Hex([]byte("something else"))
	r := do(t, srv, "alice", "pw", content, "put", "bad.txt", "--sha256", wrong)
	expectErr(t, r, 1, "sshelf: put: bad.txt: ", "put --sha256 mismatch")
	expectErr(t, do(t, srv, "alice", "pw", nil, "info", "bad.txt"), 1, "sshelf: info: bad.txt: ", "info after a mismatched put")
	if contains(lsNames(t, srv, "alice", "pw"), "bad.txt") {
		t.Error("mismatched upload is listed")
	}
	waitContentFiles(t, srv.dataDir(), before, 10*time.Second)
	checkLayout(t, srv.dataDir(), 1)

	// A mismatch onto an existing name keeps the old file whole.
	r = do(t, srv, "alice", "pw", []byte("new content"), "put", "ok.txt", "--sha256", wrong)
	expectErr(t, r, 1, "sshelf: put: ok.txt: ", "replace with --sha256 mismatch")
	if got := get(t, srv, "alice", "pw", "ok.txt"); !bytes.Equal(got, content) {
		t.Fatalf("mismatched replace changed the file: %q", got)
	}
	waitContentFiles(t, srv.dataDir(), before, 10*time.Second)
}
