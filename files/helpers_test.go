package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
)

type testEnv struct {
	svc     *Service
	dir     string // DATA: holds blobs/ and tmp/
	blobs   Blobs
	catalog Catalog
	// blobFile is where a committed blob lives (StoresForTest).
	blobFile func(key string) (string, error)
}

// envOption changes the Config of a Service over stores in dir.
type envOption func(c *Config, dir string)

func withLimits(l Limits) envOption { return func(c *Config, _ string) { c.Limits = l } }

func withPolicy(p throttle.Policy) envOption {
	return func(c *Config, _ string) { c.PasswordPolicy = p }
}

func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st := NewStoresForTest(t, dir)
	cfg := Config{
		Attempts: st.Attempts,
		Catalog:  st.Catalog,
		Blobs:    st.Blobs,
		SpoolDir: filepath.Join(dir, "tmp"),
		Hasher:   testkit.CheapHasher(4),
		PasswordPolicy: throttle.Policy{
			MaxFailures: 3, Window: time.Hour, Lockout: time.Hour,
		},
	}
	for _, o := range opts {
		o(&cfg, dir)
	}
	return &testEnv{svc: NewService(cfg), dir: dir, blobs: st.Blobs, catalog: st.Catalog, blobFile: st.BlobPath}
}

// put uploads content with Write and commits it.
func (e *testEnv) put(user string, opt PutOptions, content []byte) (File, error) {
	ctx := context.Background()
	if opt.Size == 0 && len(content) != 0 {
		opt.Size = -1
	}
	u, err := e.svc.Create(ctx, user, opt)
	if err != nil {
		return File{}, err
	}
	if _, err := u.Write(content); err != nil {
		u.Abort()
		return File{}, err
	}
	return u.Commit(ctx)
}

func (e *testEnv) mustPut(t *testing.T, user string, opt PutOptions, content []byte) File {
	t.Helper()
	f, err := e.put(user, opt, content)
	if err != nil {
		t.Fatalf("put %q as %s: %v", opt.Name, user, err)
	}
	return f
}

// get downloads a file whole with Read.
func (e *testEnv) get(user, name, password string) ([]byte, error) {
	d, err := e.svc.Open(context.Background(), user, name, password)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return io.ReadAll(d)
}

func (e *testEnv) mustGet(t *testing.T, user, name, password string) []byte {
	t.Helper()
	b, err := e.get(user, name, password)
	if err != nil {
		t.Fatalf("get %q as %s: %v", name, user, err)
	}
	return b
}

// files lists the regular files under DATA/sub.
func (e *testEnv) files(t *testing.T, sub string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(e.dir, sub), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(e.dir, sub) {
			return nil // not made yet: the spool before its first upload, a store elsewhere
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (e *testEnv) assertTempEmpty(t *testing.T) {
	t.Helper()
	if got := e.files(t, "tmp"); len(got) != 0 {
		t.Errorf("tmp/ holds %v, want nothing", got)
	}
}

// requireDiskStore skips a test of what only the disk store does (its
// file times, its commit by rename and directory sync).
func (e *testEnv) requireDiskStore(t *testing.T) {
	t.Helper()
	if _, ok := e.blobs.(Adopter); !ok {
		t.Skip("a test of the disk store's own behaviour")
	}
}

// assertBlobCount checks how many blobs the store holds, as it lists them.
func (e *testEnv) assertBlobCount(t *testing.T, want int) {
	t.Helper()
	var got []string
	err := e.blobs.Keys(context.Background(), func(key string) error {
		got = append(got, key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != want {
		t.Errorf("the blob store holds %d blobs %v, want %d", len(got), got, want)
	}
}

// blobPath returns the on-disk path of name's content.
func (e *testEnv) blobPath(t *testing.T, name string) string {
	t.Helper()
	r, err := e.catalog.Lookup(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.blobFile(r.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("blob of %q: %v", name, err)
	}
	return p
}

// commitBlob stores content in b with no record: an orphan.
func commitBlob(t *testing.T, b Blobs, content string) string {
	t.Helper()
	key, err := b.Put(context.Background(), strings.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func wantContent(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (sha %s), want %d bytes (sha %s)", what, len(got), testkit.SHA256Hex(got)[:12], len(want), testkit.SHA256Hex(want)[:12])
	}
}
