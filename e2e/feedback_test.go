package e2e

import (
	"strings"
	"testing"
)

// TestUnknownEnvLogged: an environment variable sshelf does not use is
// refused, and the refusal is logged with its name, so a user whose SetEnv
// has no effect can be told why; the ones sshelf knows are not, and
// SSHELF_HIDDEN hides an exec put as it hides an SFTP or scp one.
func TestUnknownEnvLogged(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := doEnv(t, srv, "alice", alicePW, []string{"SSHELF_HIDEN=1", "SSHELF_HIDDEN=1"}, []byte("x\n"), "put", "env.txt")
	mustOK(t, r, "put with SetEnv")
	if got := lsNames(t, srv, "alice", alicePW); contains(got, "env.txt") {
		t.Errorf("SSHELF_HIDDEN=1 did not hide an exec put: ls shows %v", got)
	}
	if f := info(t, srv, "alice", alicePW, "env.txt"); f.Visibility != "hidden" {
		t.Errorf("exec put with SSHELF_HIDDEN=1: visibility %q, want hidden", f.Visibility)
	}
	// The same through the sshelf subsystem.
	frames := subsystem(t, srv, "alice", alicePW, []string{"SSHELF_HIDDEN=1"}, "3 put sub.txt\nabc")
	if len(frames) != 1 || frames[0].status != 0 {
		t.Fatalf("subsystem put with SSHELF_HIDDEN=1: %+v", frames)
	}
	if f := info(t, srv, "alice", alicePW, "sub.txt"); f.Visibility != "hidden" {
		t.Errorf("subsystem put with SSHELF_HIDDEN=1: visibility %q, want hidden", f.Visibility)
	}
	var names []string
	for _, m := range srv.jsonLines() {
		if m["msg"] == "env refused" {
			n, _ := m["name"].(string)
			names = append(names, n)
		}
	}
	if !contains(names, "SSHELF_HIDEN") {
		t.Errorf("log has env refusals %v, want one for SSHELF_HIDEN", names)
	}
	if contains(names, "SSHELF_HIDDEN") {
		t.Errorf("SSHELF_HIDDEN was logged as refused")
	}
	if strings.Contains(srv.logText(), `"name":"LANG"`) {
		t.Errorf("the locale OpenSSH sends was logged at info level")
	}
}

// TestFeedbackTexts: refusals a user can act on.
func TestFeedbackTexts(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := do(t, srv, "alice", alicePW, []byte("x\n"), "put", "a.txt", "--sha256", "abc")
	expectErr(t, r, 2, "sshelf: put: ", "put --sha256 abc")
	if !strings.Contains(string(r.stderr), "--sha256 must be 64 hex digits") {
		t.Errorf("put --sha256 abc: stderr %q does not say what --sha256 takes", r.stderr)
	}
	put(t, srv, "alice", alicePW, "p.txt", []byte("secret\n"), "--password", "old")
	r = do(t, srv, "alice", alicePW, nil, "protect", "p.txt", "--password", "new")
	expectErr(t, r, 1, "sshelf: protect: p.txt: ", "protect without --old-password")
	if !strings.Contains(string(r.stderr), "--old-password") {
		t.Errorf("protect of a protected file: stderr %q does not name --old-password", r.stderr)
	}
	mustOK(t, do(t, srv, "alice", alicePW, nil, "protect", "p.txt", "--password", "new", "--old-password", "old"), "protect with --old-password")
}

// TestSizeUnits: size flags take units, and a bad one is one line naming
// the flag and the accepted form, exit status 2.
func TestSizeUnits(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--max-file-size", "1K", "--quota", "2KiB")
	r := do(t, srv, "alice", alicePW, make([]byte, 1025), "put", "big.bin")
	expectErr(t, r, 1, "sshelf: put: big.bin: ", "put of 1025 bytes under --max-file-size 1K")
	mustOK(t, do(t, srv, "alice", alicePW, make([]byte, 1024), "put", "a.bin"), "put of 1024 bytes")
	mustOK(t, do(t, srv, "alice", alicePW, make([]byte, 1024), "put", "b.bin"), "put up to the 2KiB quota")
	r = do(t, srv, "alice", alicePW, []byte("x"), "put", "c.bin")
	expectErr(t, r, 1, "sshelf: put: c.bin: ", "put over the 2KiB quota")
	if !strings.Contains(string(r.stderr), "quota exceeded") {
		t.Errorf("over the quota: %q", r.stderr)
	}

	bad := cli(t, nil, nil, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--max-file-size", "1X")
	lines := strings.Split(strings.TrimRight(string(bad.stderr), "\n"), "\n")
	if bad.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "-max-file-size") || !strings.Contains(lines[0], "512M") {
		t.Errorf("serve --max-file-size 1X: exit %d, stderr %q; want 2 and one line naming the flag and the form", bad.code, bad.stderr)
	}
}
