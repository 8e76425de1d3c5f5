package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Rule 3: a protected file's SHA-256 is shown (info, sum, ls --json, the
// subsystem) only to its owner or with its password; to others it shows
// as protected, without the hash ("sha256": "" in JSON).
func TestProtectedHashHidden(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	secret := []byte("PIN 4711\n") // short: its hash alone would give it away
	hash := testkit.SHA256Hex(secret)
	put(t, srv, "alice", alicePW, "pin.txt", secret, "--password", "s3cret")
	open := []byte("open content")
	put(t, srv, "alice", alicePW, "open.txt", open)
	login(t, srv, "bob", bobPW)

	noHash := func(what string, r result) {
		t.Helper()
		if bytes.Contains(r.stdout, []byte(hash)) || bytes.Contains(r.stderr, []byte(hash)) {
			t.Errorf("%s shows the protected hash: %v", what, r)
		}
	}

	// The owner sees it everywhere, without giving the password.
	if fi := info(t, srv, "alice", alicePW, "pin.txt"); fi.SHA256 != hash || !fi.Protected {
		t.Errorf("info as owner: %+v", fi)
	}
	r := do(t, srv, "alice", alicePW, nil, "sum", "pin.txt")
	if r.code != 0 || string(r.stdout) != hash+"  pin.txt\n" {
		t.Errorf("sum as owner: %v", r)
	}
	for _, fi := range lsJSON(t, srv, "alice", alicePW) {
		if fi.Name == "pin.txt" && fi.SHA256 != hash {
			t.Errorf("ls --json as owner: %+v", fi)
		}
	}

	// Others: info shows it protected, without the hash.
	fi := info(t, srv, "bob", bobPW, "pin.txt")
	if fi.SHA256 != "" || !fi.Protected || fi.Size != int64(len(secret)) || fi.Owner != "alice" {
		t.Errorf("info --json as bob: %+v", fi)
	}
	r = do(t, srv, "bob", bobPW, nil, "info", "--json", "pin.txt")
	var m map[string]any
	if err := json.Unmarshal(r.stdout, &m); err != nil || m["sha256"] != "" {
		t.Errorf(`info --json as bob: want "sha256": "", got %v (%v)`, r, err)
	}
	r = do(t, srv, "bob", bobPW, nil, "info", "pin.txt")
	mustOK(t, r, "info as bob")
	if !strings.Contains(string(r.stdout), "sha256: (withheld: protected file)\n") || !strings.Contains(string(r.stdout), "protected: yes\n") {
		t.Errorf("info as bob: %q", r.stdout)
	}
	noHash("info as bob", r)
	// A session's SSHELF_FILE_PASSWORD is not spent by info.
	r = doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=s3cret"}, nil, "info", "--json", "pin.txt")
	mustOK(t, r, "info with SetEnv as bob")
	noHash("info with SetEnv as bob", r)

	// ls --json: withheld for the protected file, shown for the open one.
	r = do(t, srv, "bob", bobPW, nil, "ls", "--json")
	noHash("ls --json as bob", r)
	for _, fi := range lsJSON(t, srv, "bob", bobPW) {
		switch fi.Name {
		case "pin.txt":
			if fi.SHA256 != "" || !fi.Protected {
				t.Errorf("ls --json as bob: %+v", fi)
			}
		case "open.txt":
			if fi.SHA256 != testkit.SHA256Hex(open) {
				t.Errorf("ls --json as bob, open file: %+v", fi)
			}
		}
	}

	// sum: refused without the password, or with a wrong one.
	r = do(t, srv, "bob", bobPW, nil, "sum", "pin.txt")
	expectLine(t, r, 1, "sshelf: sum: pin.txt: download password required", "sum as bob")
	r = do(t, srv, "bob", bobPW, nil, "sum", "pin.txt", "--password", "wrong")
	expectLine(t, r, 1, "sshelf: sum: pin.txt: wrong download password", "sum wrong password")
	r = do(t, srv, "bob", bobPW, nil, "info", "pin.txt", "--password", "wrong")
	expectLine(t, r, 1, "sshelf: info: pin.txt: wrong download password", "info wrong password")

	// With the password: the hash, by flag or by the environment.
	r = do(t, srv, "bob", bobPW, nil, "sum", "pin.txt", "--password", "s3cret")
	if r.code != 0 || string(r.stdout) != hash+"  pin.txt\n" {
		t.Errorf("sum --password as bob: %v", r)
	}
	r = doEnv(t, srv, "bob", bobPW, []string{"SSHELF_FILE_PASSWORD=s3cret"}, nil, "sum", "pin.txt")
	if r.code != 0 || string(r.stdout) != hash+"  pin.txt\n" {
		t.Errorf("sum with SetEnv as bob: %v", r)
	}
	r = do(t, srv, "bob", bobPW, nil, "info", "--json", "pin.txt", "--password", "s3cret")
	if fi := checkInfoObject(t, bytes.TrimSpace(r.stdout)); r.code != 0 || fi.SHA256 != hash {
		t.Errorf("info --password as bob: %v", r)
	}
	// Unprotected files are summed by anyone.
	r = do(t, srv, "bob", bobPW, nil, "sum", "open.txt")
	if r.code != 0 || string(r.stdout) != testkit.SHA256Hex(open)+"  open.txt\n" {
		t.Errorf("sum open file as bob: %v", r)
	}

	// The subsystem answers the same.
	frames := subsystem(t, srv, "bob", bobPW, nil,
		"0 info --json pin.txt\n0 sum pin.txt\n0 ls --json\n0 sum pin.txt --password s3cret\n")
	if len(frames) != 4 {
		t.Fatalf("subsystem: %d responses, want 4: %+v", len(frames), frames)
	}
	for i, f := range frames[:3] {
		if bytes.Contains(f.data, []byte(hash)) || strings.Contains(f.message, hash) {
			t.Errorf("subsystem response %d shows the hash: %+v", i, f)
		}
	}
	if f := frames[0]; f.status != 0 || checkInfoObject(t, bytes.TrimSpace(f.data)).SHA256 != "" {
		t.Errorf("subsystem info: %+v", f)
	}
	if f := frames[1]; f.status != 1 || f.message != "sshelf: sum: pin.txt: download password required" {
		t.Errorf("subsystem sum: %+v", f)
	}
	if f := frames[3]; f.status != 0 || f.message != "sha256 "+hash || string(f.data) != hash+"  pin.txt\n" {
		t.Errorf("subsystem sum --password: %+v", f)
	}
}

// Guessing through sum is a counted try like a download: after the limit,
// even the right password is refused, by get as by sum.
func TestProtectedHashTriesCounted(t *testing.T) {
	t.Parallel()
	// The delay after each wrong password is the throttle's own test; here
	// only the count matters.
	srv := startServer(t, "--file-password-delay", "1ms")
	put(t, srv, "alice", alicePW, "pin.txt", []byte("PIN 1"), "--password", "s3cret")
	login(t, srv, "bob", bobPW)
	locked := false
	for i := 0; i < 12 && !locked; i++ {
		r := do(t, srv, "bob", bobPW, nil, "sum", "pin.txt", "--password", "guess"+string(rune('a'+i)))
		if r.code != 1 {
			t.Fatalf("wrong guess %d: %v", i, r)
		}
		locked = strings.Contains(string(r.stderr), "try again later")
	}
	if !locked {
		t.Fatal("12 wrong sums never locked the file for bob")
	}
	for _, args := range [][]string{{"sum", "pin.txt", "--password", "s3cret"}, {"get", "pin.txt", "--password", "s3cret"}} {
		r := do(t, srv, "bob", bobPW, nil, args...)
		if r.code != 1 || !strings.Contains(string(r.stderr), "try again later") {
			t.Errorf("%s after the lockout: %v", args[0], r)
		}
	}
}

// expectLine is expectErr for a whole error line.
func expectLine(t *testing.T, r result, code int, line, what string) {
	t.Helper()
	if r.code != code || string(r.stderr) != line+"\n" || len(r.stdout) != 0 {
		t.Errorf("%s: want exit %d and stderr %q, got %v", what, code, line+"\n", r)
	}
}
