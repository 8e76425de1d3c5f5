package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// scp, in its default SFTP mode and the legacy protocol (-O), under the
// same rules.

var scpModes = []struct {
	name string
	args []string
}{
	{"sftp", nil},
	{"legacy", []string{"-O"}},
}

func TestSCPBothWays(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, m := range scpModes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			content := testkit.RandBytes(t, 2<<20+3)
			// 0600 locally: the mode must not hide the upload.
			writeLocal(t, dir, "up-"+m.name, content, 0o600)
			writeLocal(t, dir, "second-"+m.name, []byte("second\n"), 0o644)
			args := append(append([]string{}, m.args...), "up-"+m.name, "second-"+m.name, srv.remote("alice", ""))
			if r := srv.scp(t, alice(), dir, args...); r.code != 0 {
				t.Fatalf("scp upload: %v", r)
			}
			// Onto a name of its own choosing, with -p (times are ignored).
			args = append(append([]string{}, m.args...), "-p", "up-"+m.name, srv.remote("alice", "/named-"+m.name))
			if r := srv.scp(t, alice(), dir, args...); r.code != 0 {
				t.Fatalf("scp upload to a name: %v", r)
			}
			for _, name := range []string{"up-" + m.name, "named-" + m.name} {
				fi := info(t, srv, "alice", defaultPasswd, name)
				if fi.SHA256 != testkit.SHA256Hex(content) || fi.Visibility != "public" || fi.Protected {
					t.Errorf("%s recorded %+v", name, fi)
				}
			}
			if got := get(t, srv, "alice", defaultPasswd, "second-"+m.name); string(got) != "second\n" {
				t.Errorf("second file: %q", got)
			}
			bobDir := t.TempDir()
			args = append(append([]string{}, m.args...), srv.remote("bob", "named-"+m.name), "down")
			if r := srv.scp(t, bob(), bobDir, args...); r.code != 0 {
				t.Fatalf("scp download: %v", r)
			}
			if got := readLocal(t, filepath.Join(bobDir, "down")); testkit.SHA256Hex(got) != testkit.SHA256Hex(content) {
				t.Errorf("downloaded content differs")
			}
			args = append(append([]string{}, m.args...), srv.remote("bob", "no-such-file"), "x")
			if r := srv.scp(t, bob(), bobDir, args...); r.code != 1 || len(r.stderr) == 0 {
				t.Errorf("download of a missing file: want exit 1 with a message, got %v", r)
			}
		})
	}
}

func TestSCPRules(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, m := range scpModes {
		t.Run(m.name, func(t *testing.T) {
			scp := func(o sshOpts, dir string, args ...string) result {
				return srv.scp(t, o, dir, append(append([]string{}, m.args...), args...)...)
			}
			dir := t.TempDir()
			hidden, locked, mine := "hidden-"+m.name, "locked-"+m.name, "mine-"+m.name
			writeLocal(t, dir, hidden, []byte("hidden\n"), 0o644)
			writeLocal(t, dir, locked, []byte("locked\n"), 0o644)
			writeLocal(t, dir, mine, []byte("alice's\n"), 0o644)
			if r := scp(withEnv(alice(), "SSHELF_HIDDEN=1"), dir, hidden, srv.remote("alice", "")); r.code != 0 {
				t.Fatalf("upload hidden: %v", r)
			}
			if r := scp(withEnv(alice(), "SSHELF_FILE_PASSWORD=pw-"+m.name), dir, locked, mine, srv.remote("alice", "")); r.code != 0 {
				t.Fatalf("upload protected: %v", r)
			}
			if fi := info(t, srv, "alice", defaultPasswd, hidden); fi.Visibility != "hidden" {
				t.Errorf("SSHELF_HIDDEN=1: %+v", fi)
			}
			if fi := info(t, srv, "alice", defaultPasswd, locked); !fi.Protected {
				t.Errorf("SSHELF_FILE_PASSWORD: %+v", fi)
			}
			if contains(lsNames(t, srv, "bob", bobPasswd), hidden) {
				t.Errorf("a hidden upload is listed")
			}

			bobDir := t.TempDir()
			// Rule 2: a hidden file by its exact name.
			if r := scp(bob(), bobDir, srv.remote("bob", hidden), "h"); r.code != 0 {
				t.Errorf("download hidden by exact name: %v", r)
			}
			// Rule 3.
			if r := scp(bob(), bobDir, srv.remote("bob", locked), "l1"); r.code != 1 || !strings.Contains(strings.ToLower(string(r.stderr)), "denied") && !strings.Contains(string(r.stderr), "password") {
				t.Errorf("protected download without the password: want exit 1, got %v", r)
			}
			if _, err := os.Stat(filepath.Join(bobDir, "l1")); err == nil {
				t.Errorf("a refused download left a local file")
			}
			if r := scp(withEnv(bob(), "SSHELF_FILE_PASSWORD=wrong"), bobDir, srv.remote("bob", locked), "l2"); r.code != 1 {
				t.Errorf("protected download with a wrong password: want exit 1, got %v", r)
			}
			if r := scp(withEnv(bob(), "SSHELF_FILE_PASSWORD=pw-"+m.name), bobDir, srv.remote("bob", locked), "l3"); r.code != 0 {
				t.Errorf("protected download with the password: %v", r)
			} else if got := readLocal(t, filepath.Join(bobDir, "l3")); string(got) != "locked\n" {
				t.Errorf("protected download: %q", got)
			}
			// Rule 5: onto another's name, refused and unchanged.
			before := info(t, srv, "alice", defaultPasswd, mine)
			writeLocal(t, bobDir, mine, []byte("bob's\n"), 0o644)
			if r := scp(bob(), bobDir, mine, srv.remote("bob", "")); r.code != 1 {
				t.Errorf("upload onto another's name: want exit 1, got %v", r)
			}
			if after := info(t, srv, "alice", defaultPasswd, mine); after != before {
				t.Errorf("another's upload changed the file: %+v -> %+v", before, after)
			}
			// No directories.
			if r := scp(alice(), dir, mine, srv.remote("alice", "sub/"+mine)); r.code != 1 {
				t.Errorf("upload into a directory: want exit 1, got %v", r)
			}
		})
	}
}

func TestSCPLegacyRefusesDirectories(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, "tree")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLocal(t, sub, "leaf", []byte("x"), 0o644)
	r := srv.scp(t, alice(), dir, "-O", "-r", "tree", srv.remote("alice", ""))
	if r.code != 1 || !strings.Contains(string(r.stderr), "directories") {
		t.Errorf("scp -O -r: want exit 1 saying directories are not supported, got %v", r)
	}
	if got := lsNames(t, srv, "alice", defaultPasswd); len(got) != 0 {
		t.Errorf("scp -r stored %q", got)
	}
}

// Many files in one legacy session, some refused: the session goes on.
func TestSCPLegacyManyFilesSomeRefused(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "bob", bobPasswd, "taken", []byte("bob's"))
	dir := t.TempDir()
	var args []string
	for i := range 5 {
		name := fmt.Sprintf("f%d", i)
		writeLocal(t, dir, name, testkit.RandBytes(t, 1000*i), 0o644)
		args = append(args, name)
	}
	writeLocal(t, dir, "taken", []byte("alice's"), 0o644)
	args = append(append([]string{"-O"}, args[:2]...), append([]string{"taken"}, args[2:]...)...)
	r := srv.scp(t, alice(), dir, append(args, srv.remote("alice", ""))...)
	if r.code != 1 || !strings.Contains(string(r.stderr), "taken") {
		t.Errorf("want exit 1 naming the refused file, got %v", r)
	}
	got := lsNames(t, srv, "alice", defaultPasswd)
	if strings.Join(got, " ") != "f0 f1 f2 f3 f4 taken" {
		t.Errorf("stored %q", got)
	}
	if fi := info(t, srv, "bob", bobPasswd, "taken"); fi.Owner != "bob" {
		t.Errorf("taken: %+v", fi)
	}
}
