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
