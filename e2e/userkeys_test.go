package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// `sshelf user key list` shows each key as `ssh-keygen -lf` does, and
// `user key del` by that fingerprint takes the key's login away at once,
// leaving the account's other keys.
func TestUserKeyListDel(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	in := srv.inst
	login(t, srv, "alice", alicePW)
	key1, pub1 := newKey(t)
	key2, pub2 := newKey(t)
	in.mustUserCLI(t, []byte(pub1), "key", "add", "alice")
	in.mustUserCLI(t, []byte(pub2), "key", "add", "alice")

	want := map[string]string{} // fingerprint -> ssh-keygen's line
	for _, k := range []string{key1, key2} {
		line := keygenLine(t, k+".pub")
		want[strings.Fields(line)[1]] = line
	}
	fp1 := strings.Fields(keygenLine(t, key1+".pub"))[1]

	list := scanLines(in.mustUserCLI(t, nil, "key", "list", "alice").stdout)
	if len(list) != 2 {
		t.Fatalf("key list = %q, want 2 lines", list)
	}
	for _, l := range list {
		f := strings.Fields(l)
		if len(f) < 2 || want[f[1]] != l {
			t.Errorf("key list line %q, want one of ssh-keygen's %q", l, want)
		}
	}
	if r := in.userCLI(t, nil, "key", "list", "nobody"); r.code != 1 || !strings.Contains(string(r.stderr), "no such account") {
		t.Errorf("key list of an unknown account: %v", r)
	}

	for _, k := range []string{key1, key2} {
		if r := srv.ssh(t, sshOpts{user: "alice", key: k}, "whoami"); r.code != 0 || string(r.stdout) != "alice\n" {
			t.Fatalf("key login before del: %v", r)
		}
	}
	in.mustUserCLI(t, nil, "key", "del", "alice", fp1)
	if r := srv.ssh(t, sshOpts{user: "alice", key: key1}, "whoami"); r.code != 255 {
		t.Errorf("the deleted key still logs in: %v", r)
	}
	if r := srv.ssh(t, sshOpts{user: "alice", key: key2}, "whoami"); r.code != 0 || string(r.stdout) != "alice\n" {
		t.Errorf("the other key no longer logs in: %v", r)
	}
	login(t, srv, "alice", alicePW) // the password is untouched
	list = scanLines(in.mustUserCLI(t, nil, "key", "list", "alice").stdout)
	if len(list) != 1 || strings.Contains(list[0], fp1) {
		t.Errorf("key list after del = %q", list)
	}
	if r := in.userCLI(t, nil, "key", "del", "alice", fp1); r.code != 1 || !strings.Contains(string(r.stderr), "no such key") {
		t.Errorf("del of a key already deleted: %v", r)
	}
	if r := in.userCLI(t, nil, "key", "del", "alice"); r.code != 2 {
		t.Errorf("key del without a fingerprint: %v", r)
	}
}

// keygenLine is what `ssh-keygen -lf path` prints: bits, the SHA256
// fingerprint, the comment, the type.
func keygenLine(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-lf", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v", err)
	}
	line := strings.TrimSpace(string(out))
	if f := strings.Fields(line); len(f) < 2 || !strings.HasPrefix(f[1], "SHA256:") {
		t.Fatalf("ssh-keygen -lf printed %q", line)
	}
	return line
}
