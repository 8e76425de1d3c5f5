package files

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// fakeDisk reports as free a capacity less what the store's folders hold,
// so that uploads use it up as they are written, and counts the looks.
type fakeDisk struct {
	dir      string
	capacity int64

	mu    sync.Mutex
	calls int
}

func (d *fakeDisk) FreeSpace(ctx context.Context) (int64, error) {
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
	var used int64
	for _, sub := range []string{"blobs", "tmp"} {
		root := filepath.Join(d.dir, sub)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return nil // a store elsewhere (S3), or a spool not made yet
			}
			if err != nil || e.IsDir() {
				return err
			}
			info, err := e.Info()
			if err == nil {
				used += info.Size()
			}
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return d.capacity - used, nil
}

func (d *fakeDisk) looks() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// withDisk makes the store's disk capacity bytes, minFree of them reserved.
func withDisk(capacity, minFree int64, disk **fakeDisk) envOption {
	return func(c *Config, dir string) {
		*disk = &fakeDisk{dir: dir, capacity: capacity}
		c.Space = *disk
		c.Limits.MinFreeSpace = minFree
	}
}

// The reserve holds at the start of an upload and as it grows: a refused
// upload stops before it eats the reserve, and leaves nothing behind.
func TestUploadFreeSpaceReserve(t *testing.T) {
	const mib = 1 << 20
	const packet = 32 << 10
	cases := []struct {
		name     string
		capacity int64 // the disk; the catalog is not on it
		minFree  int64
		size     int64 // content written
		declared bool  // the size is given at Create (scp, exec put with a length)
		writeAt  bool  // SFTP's writes at offsets, instead of Write
		want     error // at Create or on a write
		atCreate bool  // refused at Create, not later
	}{
		{name: "plenty of room", capacity: 1 << 40, minFree: 256 * mib, size: 20 * mib},
		{name: "below the reserve at start", capacity: 8 * mib, minFree: 16 * mib, size: 1, want: ErrNoSpace, atCreate: true},
		{name: "declared size would cross the reserve", capacity: 20 * mib, minFree: 16 * mib, size: 5 * mib, declared: true, want: ErrNoSpace, atCreate: true},
		{name: "crossing the reserve mid-upload", capacity: 26 * mib, minFree: 16 * mib, size: 20 * mib, want: ErrNoSpace},
		{name: "crossing the reserve mid-upload, writes at offsets", capacity: 26 * mib, minFree: 16 * mib, size: 20 * mib, writeAt: true, want: ErrNoSpace},
		{name: "exactly at the reserve: nothing more", capacity: 16 * mib, minFree: 16 * mib, size: 1, want: ErrNoSpace},
		{name: "exactly at the reserve: empty file", capacity: 16 * mib, minFree: 16 * mib, size: 0},
		{name: "declared size fills up to the reserve exactly", capacity: 21 * mib, minFree: 16 * mib, size: 5 * mib, declared: true},
		{name: "unknown size fills up to the reserve", capacity: 21 * mib, minFree: 16 * mib, size: 5 * mib},
		{name: "no reserve", capacity: 0, minFree: 0, size: 3 * mib},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var disk *fakeDisk
			e := newEnv(t, withDisk(c.capacity, c.minFree, &disk))
			ctx := context.Background()
			opt := PutOptions{Name: "f", Size: -1}
			if c.declared {
				opt.Size = c.size
			}
			content := testkit.RandBytes(t, int(c.size))
			u, err := e.svc.Create(ctx, "alice", opt)
			if c.atCreate {
				testkit.WantErr(t, "Create", err, c.want)
				e.assertTempEmpty(t)
				return
			}
			testkit.WantErr(t, "Create", err, nil)
			var werr error
			writes := 0
			for off := 0; off < len(content) && werr == nil; off += packet {
				p := content[off:min(off+packet, len(content))]
				if c.writeAt {
					_, werr = u.WriteAt(p, int64(off))
				} else {
					_, werr = u.Write(p)
				}
				writes++
			}
			if c.want == nil {
				testkit.WantErr(t, "write", werr, nil)
				if _, err := u.Commit(ctx); err != nil {
					t.Fatalf("Commit: %v", err)
				}
				wantContent(t, "stored", e.mustGet(t, "bob", "f", ""), content)
			} else {
				testkit.WantErr(t, "write", werr, c.want)
				if reason := Reason(werr); reason != "no space left on the server; nothing stored" {
					t.Errorf("reason %q", reason)
				}
				u.Abort()
				e.assertTempEmpty(t)
				e.assertBlobCount(t, 0)
			}
			if c.minFree > 0 {
				// The bytes written never took the disk below the reserve,
				// but for what the spool gathers before writing.
				if free := c.capacity - u.Size(); c.want != nil && free < c.minFree-writeBufSize {
					t.Errorf("upload stopped at %d bytes, %d free: below the %d reserved", u.Size(), free, c.minFree)
				}
				// statfs is not called per packet.
				if c.size >= 20*mib && disk.looks() > writes/8 {
					t.Errorf("%d looks at the free space for %d writes", disk.looks(), writes)
				}
			} else if disk.looks() != 0 {
				t.Errorf("no reserve, yet %d looks at the free space", disk.looks())
			}
		})
	}
}

// An upload updating an existing file (KeepOld) copies the old bytes in:
// that copy counts against the free space too.
func TestUploadKeepOldFreeSpace(t *testing.T) {
	const mib = 1 << 20
	var disk *fakeDisk
	e := newEnv(t, withDisk(1<<40, 16*mib, &disk))
	old := testkit.RandBytes(t, 4*mib)
	e.mustPut(t, "alice", PutOptions{Name: "f", Size: -1}, old)
	ctx := context.Background()
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1, KeepOld: true})
	testkit.WantErr(t, "Create", err, nil)
	// 2 MiB above the reserve, less than the old content, beside what
	// the store keeps on this disk (the disk store's blobs; none for S3).
	var local int64
	for _, p := range e.files(t, "blobs") {
		if fi, err := os.Stat(p); err == nil {
			local += fi.Size()
		}
	}
	disk.capacity = 16*mib + 2*mib + local
	if _, err := u.WriteAt([]byte("x"), 0); err != nil {
		t.Fatalf("WriteAt: %v", err)
	}
	_, err = u.Commit(ctx)
	testkit.WantErr(t, "Commit", err, ErrNoSpace)
	wantContent(t, "old version kept", e.mustGet(t, "alice", "f", ""), old)
	e.assertTempEmpty(t)
}

// fullCatalog is a catalog on a full disk: every write fails with no space
// until the disk reserve is released.
type fullCatalog struct {
	Catalog
	mu   sync.Mutex
	full bool
}

func (c *fullCatalog) isFull() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.full
}

var errFullDisk = errors.New("database or disk is full")

func (c *fullCatalog) Delete(ctx context.Context, name string, check func(Record) error) (Record, error) {
	if c.isFull() {
		return Record{}, catalogErrorFull()
	}
	return c.Catalog.Delete(ctx, name, check)
}

func (c *fullCatalog) Update(ctx context.Context, name string, fn func(*Record) error) error {
	if c.isFull() {
		return catalogErrorFull()
	}
	return c.Catalog.Update(ctx, name, fn)
}

func (c *fullCatalog) Put(ctx context.Context, rec Record, check func(*Record, int64) error) (*Record, error) {
	if c.isFull() {
		return nil, catalogErrorFull()
	}
	return c.Catalog.Put(ctx, rec, check)
}

func catalogErrorFull() error { return errors.Join(ErrNoSpace, errFullDisk) }

// fakeSpare frees the full catalog when released.
type fakeSpare struct {
	cat                *fullCatalog
	releases, restores int
}

func (s *fakeSpare) Release() error {
	s.releases++
	s.cat.mu.Lock()
	s.cat.full = false
	s.cat.mu.Unlock()
	return nil
}

func (s *fakeSpare) Restore() error { s.restores++; return nil }

// Deleting and hiding work on a full disk: they give up the reserve and
// try again (rule 9). Uploads do not touch the reserve.
func TestFullDiskDeleteAndHide(t *testing.T) {
	cases := []struct {
		name         string
		op           func(e *testEnv) error
		want         error
		wantReleases int
	}{
		{"rm", func(e *testEnv) error { return e.svc.Remove(context.Background(), "alice", "f") }, nil, 1},
		{"hide", func(e *testEnv) error { return e.svc.SetHidden(context.Background(), "alice", "f", true) }, nil, 1},
		{"unhide", func(e *testEnv) error { return e.svc.SetHidden(context.Background(), "alice", "f", false) }, nil, 1},
		{"rm by another user", func(e *testEnv) error { return e.svc.Remove(context.Background(), "bob", "f") }, ErrPermission, 1},
		{"put", func(e *testEnv) error {
			_, err := e.put("alice", PutOptions{Name: "g"}, []byte("new"))
			return err
		}, ErrNoSpace, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cat *fullCatalog
			var spare *fakeSpare
			e := newEnv(t, func(cfg *Config, _ string) {
				cat = &fullCatalog{Catalog: cfg.Catalog}
				spare = &fakeSpare{cat: cat}
				cfg.Catalog, cfg.Spare = cat, spare
			})
			e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("content"))
			cat.full = true
			testkit.WantErr(t, c.name, c.op(e), c.want)
			if spare.releases != c.wantReleases {
				t.Errorf("%s: reserve released %d times, want %d", c.name, spare.releases, c.wantReleases)
			}
		})
	}
}

// A freed disk takes its reserve back after a delete.
func TestRemoveRestoresReserve(t *testing.T) {
	var spare *fakeSpare
	e := newEnv(t, func(cfg *Config, _ string) {
		spare = &fakeSpare{cat: &fullCatalog{}}
		cfg.Spare = spare
	})
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("content"))
	testkit.WantErr(t, "rm", e.svc.Remove(context.Background(), "alice", "f"), nil)
	if spare.releases != 0 || spare.restores != 1 {
		t.Errorf("releases %d, restores %d; want 0 and 1", spare.releases, spare.restores)
	}
}

// fakeOwners refuses the accounts in gone.
type fakeOwners struct {
	mu   sync.Mutex
	gone map[string]bool
}

func (o *fakeOwners) MayStore(ctx context.Context, user string) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.gone[user], nil
}

// An account being deleted stores nothing: not at the start of an upload,
// nor at its commit if the deletion began meanwhile.
func TestDeletedAccountStoresNothing(t *testing.T) {
	owners := &fakeOwners{gone: map[string]bool{"carol": true}}
	e := newEnv(t, func(cfg *Config, _ string) { cfg.Owners = owners })
	ctx := context.Background()
	_, err := e.svc.Create(ctx, "carol", PutOptions{Name: "c", Size: -1})
	testkit.WantErr(t, "Create by a deleted account", err, ErrAccountGone)

	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "a", Size: -1})
	testkit.WantErr(t, "Create", err, nil)
	if _, err := u.Write(bytes.Repeat([]byte("a"), 100)); err != nil {
		t.Fatal(err)
	}
	owners.mu.Lock()
	owners.gone["alice"] = true
	owners.mu.Unlock()
	_, err = u.Commit(ctx)
	testkit.WantErr(t, "Commit after the deletion began", err, ErrAccountGone)
	if _, err := e.svc.Info(ctx, "bob", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Info of the refused upload: %v, want not found", err)
	}
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 0)
}
