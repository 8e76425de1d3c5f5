package app

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
)

// openTestApp opens the data directory dir (created if needed), open signup.
func openTestApp(t *testing.T, dir string) *App {
	t.Helper()
	a, err := Open(context.Background(), Options{Data: dir, SignupOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// putFile stores name with content as user, creating the account first
// if it does not exist (uploads need a live account).
func putFile(t *testing.T, a *App, user, name, content string) {
	t.Helper()
	ctx := context.Background()
	if err := a.Accounts.Add(ctx, user, user+"-pw"); err != nil && !errors.Is(err, auth.ErrExists) {
		t.Fatal(err)
	}
	u, err := a.Files.Create(ctx, user, files.PutOptions{Name: name, Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(u, content); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Commit(ctx); err != nil {
		t.Fatalf("put %q: %v", name, err)
	}
}

// contents returns name -> content of every file in a, after a check that
// every content verifies and nothing is orphaned.
func contents(t *testing.T, a *App) map[string]string {
	t.Helper()
	ctx := context.Background()
	sum, err := a.Files.Check(ctx, files.CheckOptions{})
	if err != nil || !sum.OK() || sum.Orphans != 0 {
		t.Fatalf("check: %v, %v", sum, err)
	}
	list, err := a.Files.List(ctx, "alice", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range list {
		name := f.Name
		d, err := a.Files.Open(ctx, "alice", name, "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(d)
		d.Close()
		if err != nil {
			t.Fatalf("read %q: %v", name, err)
		}
		out[name] = string(b)
	}
	return out
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// during runs after the given snapshot, as a server would.
		during      func(t *testing.T, a *App, attempt int)
		want        map[string]string
		wantDropped []string
	}{
		{
			name: "quiet",
			want: map[string]string{"a": "one", "b": "two", "c": "three"},
		},
		{
			name: "replaced and removed after the first snapshot",
			during: func(t *testing.T, a *App, attempt int) {
				if attempt == 1 {
					putFile(t, a, "alice", "a", "one, again")
					if err := a.Files.Remove(ctx, "alice", "b"); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: map[string]string{"a": "one, again", "c": "three"},
		},
		{
			name: "replaced after every snapshot",
			during: func(t *testing.T, a *App, attempt int) {
				putFile(t, a, "alice", "a", strings.Repeat("x", attempt))
			},
			want:        map[string]string{"b": "two", "c": "three"},
			wantDropped: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			a := openTestApp(t, src)
			putFile(t, a, "alice", "a", "one")
			putFile(t, a, "alice", "b", "two")
			putFile(t, a, "alice", "c", "three")
			if err := os.MkdirAll(filepath.Join(src, "hostkeys"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "hostkeys", "ssh_host_ed25519_key"), []byte("key"), 0o600); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "backup")
			var hook func(int)
			if tt.during != nil {
				hook = func(n int) { tt.during(t, a, n) }
			}
			res, err := a.backup(ctx, dest, hook)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Dropped, tt.wantDropped) {
				t.Errorf("dropped %q, want %q", res.Dropped, tt.wantDropped)
			}
			if res.Files != int64(len(tt.want)) || res.Linked+res.Copied < len(tt.want) {
				t.Errorf("result %+v, want %d files", res, len(tt.want))
			}
			got := contents(t, openTestApp(t, dest))
			if len(got) != len(tt.want) {
				t.Errorf("backup holds %q, want %q", got, tt.want)
			}
			for name, c := range tt.want {
				if got[name] != c {
					t.Errorf("backup %q = %q, want %q", name, got[name], c)
				}
			}
			key, err := os.ReadFile(filepath.Join(dest, "hostkeys", "ssh_host_ed25519_key"))
			if err != nil || string(key) != "key" {
				t.Errorf("host key copy: %q, %v", key, err)
			}
			for _, p := range []string{dest, filepath.Join(dest, "sshelf.db"), filepath.Join(dest, "hostkeys", "ssh_host_ed25519_key")} {
				if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: %v, mode %v, want owner-only", p, err, fi.Mode())
				}
			}
		})
	}
}

func TestBackupRefusesNonEmptyDest(t *testing.T) {
	a := openTestApp(t, t.TempDir())
	dest := t.TempDir()
	if err := os.WriteFile(filepath.Join(dest, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := a.Backup(context.Background(), dest)
	if err == nil || !strings.Contains(err.Error(), dest+" is not empty") {
		t.Errorf("backup into a non-empty folder: %v", err)
	}
}

func TestOpenExistingRefusesMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := OpenExisting(context.Background(), Options{Data: dir})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("OpenExisting(%s): %v, want an error naming it", dir, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("OpenExisting created %s", dir)
	}
}
