package files

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Rule 6: an interrupted upload leaves nothing behind.
func TestUploadAbortLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		write func(u *Upload) error
	}{
		{"nothing written", func(u *Upload) error { return nil }},
		{"in order", func(u *Upload) error { _, err := u.Write(bytes.Repeat([]byte("x"), 100<<10)); return err }},
		{"out of order", func(u *Upload) error { _, err := u.WriteAt([]byte("tail"), 1<<20); return err }},
		{"truncated", func(u *Upload) error {
			if _, err := u.Write(make([]byte, 8192)); err != nil {
				return err
			}
			return u.Truncate(4096)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1, Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.write(u); err != nil {
				t.Fatal(err)
			}
			if len(e.files(t, "tmp")) != 1 {
				t.Errorf("an upload in progress should be in tmp/: %v", e.files(t, "tmp"))
			}
			if err := u.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := u.Abort(); err != nil {
				t.Errorf("second Abort: %v", err)
			}
			_, err = u.Commit(ctx)
			testkit.WantErr(t, "Commit after Abort", err, ErrClosed)
			_, err = u.Write([]byte("x"))
			testkit.WantErr(t, "Write after Abort", err, ErrClosed)
			_, err = u.WriteAt([]byte("x"), 0)
			testkit.WantErr(t, "WriteAt after Abort", err, ErrClosed)
			testkit.WantErr(t, "Truncate after Abort", u.Truncate(0), ErrClosed)
			_, err = e.svc.Info(ctx, "alice", "f")
			testkit.WantErr(t, "Info", err, ErrNotFound)
			e.assertTempEmpty(t)
			e.assertBlobCount(t, 0)
		})
	}
}

// Rule 6: on any error at Commit nothing is stored, and an existing file of
// the same name is untouched.
func TestUploadCommitErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	content := []byte("the content")
	tests := []struct {
		name      string
		opt       PutOptions
		write     []byte
		createErr error
		commitErr error
	}{
		{"wrong sha256", PutOptions{SHA256: testkit.SHA256Hex([]byte("other")), Size: -1}, content, nil, ErrHashMismatch},
		{"sha256 of a prefix", PutOptions{SHA256: testkit.SHA256Hex(content[:5]), Size: -1}, content, nil, ErrHashMismatch},
		{"right sha256", PutOptions{SHA256: testkit.SHA256Hex(content), Size: -1}, content, nil, nil},
		{"right sha256 upper case", PutOptions{SHA256: strings.ToUpper(testkit.SHA256Hex(content)), Size: -1}, content, nil, nil},
		{"sha256 too short", PutOptions{SHA256: testkit.SHA256Hex(content)[:63], Size: -1}, content, ErrBadHash, nil},
		{"sha256 too long", PutOptions{SHA256: testkit.SHA256Hex(content) + "0", Size: -1}, content, ErrBadHash, nil},
		{"sha256 not hex", PutOptions{SHA256: "g" + testkit.SHA256Hex(content)[1:], Size: -1}, content, ErrBadHash, nil},
		{"declared size not reached", PutOptions{Size: int64(len(content)) + 1}, content, nil, ErrIncomplete},
		{"declared size exceeded", PutOptions{Size: int64(len(content)) - 1}, content, nil, ErrIncomplete},
		{"declared size zero, content", PutOptions{Size: 0}, content, nil, ErrIncomplete},
		{"declared size met", PutOptions{Size: int64(len(content))}, content, nil, nil},
		{"empty file", PutOptions{Size: 0}, nil, nil, nil},
		{"empty file, unknown size", PutOptions{Size: -1, SHA256: testkit.SHA256Hex(nil)}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("previous"))
			opt := tt.opt
			opt.Name = "f"
			u, err := e.svc.Create(ctx, "alice", opt)
			testkit.WantErr(t, "Create", err, tt.createErr)
			if err != nil {
				e.assertTempEmpty(t)
				return
			}
			if _, err := u.Write(tt.write); err != nil {
				t.Fatal(err)
			}
			f, err := u.Commit(ctx)
			testkit.WantErr(t, "Commit", err, tt.commitErr)
			_, err = u.Commit(ctx)
			testkit.WantErr(t, "second Commit", err, ErrClosed)
			e.assertTempEmpty(t)
			e.assertBlobCount(t, 1)
			if tt.commitErr != nil {
				wantContent(t, "untouched", e.mustGet(t, "bob", "f", ""), []byte("previous"))
				return
			}
			if f.SHA256 != testkit.SHA256Hex(tt.write) || f.Size != int64(len(tt.write)) {
				t.Errorf("committed %+v", f)
			}
			wantContent(t, "stored", e.mustGet(t, "bob", "f", ""), tt.write)
		})
	}
}

// SFTP writes come out of order, from several requests at once: the
// recorded hash must still be the content's.
func TestUploadOutOfOrderConcurrentWriteAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		size  int
		chunk int
	}{
		{"1 MiB in 32 KiB chunks", 1 << 20, 32 << 10},
		{"odd sizes", 100_003, 4093},
		{"one chunk", 10, 32 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			content := testkit.RandBytes(t, tt.size)
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: int64(tt.size), SHA256: testkit.SHA256Hex(content)})
			if err != nil {
				t.Fatal(err)
			}
			var offs []int
			for off := 0; off < tt.size; off += tt.chunk {
				offs = append(offs, off)
			}
			rand.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
			var wg sync.WaitGroup
			work := make(chan int)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for off := range work {
						end := min(off+tt.chunk, tt.size)
						if n, err := u.WriteAt(content[off:end], int64(off)); err != nil || n != end-off {
							t.Errorf("WriteAt(%d): %d, %v", off, n, err)
						}
					}
				}()
			}
			for _, off := range offs {
				work <- off
			}
			close(work)
			wg.Wait()
			if u.Size() != int64(tt.size) {
				t.Errorf("Size() = %d, want %d", u.Size(), tt.size)
			}
			// An SFTP client may read the open upload back.
			back := make([]byte, tt.size+10)
			n, err := u.ReadAt(back, 0)
			if err != io.EOF || n != tt.size {
				t.Errorf("ReadAt of the whole upload: %d, %v; want %d, EOF", n, err, tt.size)
			}
			wantContent(t, "read back", back[:n], content)
			f, err := u.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.SHA256 != testkit.SHA256Hex(content) {
				t.Errorf("recorded sha %s, want %s", f.SHA256, testkit.SHA256Hex(content))
			}
			wantContent(t, "stored", e.mustGet(t, "bob", "f", ""), content)
		})
	}
}

func TestUploadRewriteAndTruncate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	abc := []byte("abcdefghij")
	tests := []struct {
		name string
		do   func(t *testing.T, u *Upload)
		want []byte
	}{
		{"truncate shorter", func(t *testing.T, u *Upload) {
			u.Write(abc)
			must(t, u.Truncate(4))
		}, []byte("abcd")},
		{"truncate to zero", func(t *testing.T, u *Upload) {
			u.Write(abc)
			must(t, u.Truncate(0))
		}, []byte{}},
		{"truncate to the same size", func(t *testing.T, u *Upload) {
			u.Write(abc)
			must(t, u.Truncate(10))
		}, abc},
		{"truncate then write on", func(t *testing.T, u *Upload) {
			u.Write(abc)
			must(t, u.Truncate(3))
			u.Write([]byte("XYZ"))
		}, []byte("abcXYZ")},
		{"truncate twice", func(t *testing.T, u *Upload) {
			u.Write(abc)
			must(t, u.Truncate(4))
			must(t, u.Truncate(2))
		}, []byte("ab")},
		{"overwrite the start", func(t *testing.T, u *Upload) {
			u.Write(abc)
			u.WriteAt([]byte("XY"), 0)
		}, []byte("XYcdefghij")},
		{"tail first then head", func(t *testing.T, u *Upload) {
			u.WriteAt(abc[5:], 5)
			u.WriteAt(abc[:5], 0)
		}, abc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
			if err != nil {
				t.Fatal(err)
			}
			tt.do(t, u)
			if u.Size() != int64(len(tt.want)) {
				t.Errorf("Size() = %d, want %d", u.Size(), len(tt.want))
			}
			f, err := u.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size != int64(len(tt.want)) || f.SHA256 != testkit.SHA256Hex(tt.want) {
				t.Errorf("committed size %d sha %s, want %d %s", f.Size, f.SHA256, len(tt.want), testkit.SHA256Hex(tt.want))
			}
			wantContent(t, "stored", e.mustGet(t, "bob", "f", ""), tt.want)
		})
	}
	t.Run("negative", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer u.Abort()
		if err := u.Truncate(-1); err == nil {
			t.Error("Truncate(-1) succeeded")
		}
		if _, err := u.WriteAt([]byte("x"), -1); err == nil {
			t.Error("WriteAt at -1 succeeded")
		}
	})
}

// A zero-length write past the end must not make the upload longer than
// its content: the recorded size would then not match the stored bytes and
// every download of the file would fail as corrupt.
func TestUploadEmptyWriteAtPastEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("abc"))
	if _, err := u.WriteAt(nil, 100); err != nil {
		t.Fatal(err)
	}
	f, err := u.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.get("bob", "f", "")
	if err != nil {
		t.Fatalf("download of %+v: %v", f, err)
	}
	if f.Size != int64(len(got)) || f.SHA256 != testkit.SHA256Hex(got) {
		t.Errorf("recorded size %d sha %s, stored %d bytes sha %s", f.Size, f.SHA256, len(got), testkit.SHA256Hex(got))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMaxFileSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const max = 1000
	tests := []struct {
		name      string
		size      int64 // declared
		do        func(u *Upload) error
		createErr error
		writeErr  error
	}{
		{"declared too large", max + 1, nil, ErrTooLarge, nil},
		{"declared at the limit", max, func(u *Upload) error { _, err := u.Write(make([]byte, max)); return err }, nil, nil},
		{"write past the limit", -1, func(u *Upload) error { _, err := u.Write(make([]byte, max+1)); return err }, nil, ErrTooLarge},
		{"writes past the limit", -1, func(u *Upload) error {
			u.Write(make([]byte, max))
			_, err := u.Write([]byte{1})
			return err
		}, nil, ErrTooLarge},
		{"WriteAt past the limit", -1, func(u *Upload) error { _, err := u.WriteAt([]byte{1}, max); return err }, nil, ErrTooLarge},
		{"WriteAt ending at the limit", -1, func(u *Upload) error {
			if _, err := u.WriteAt(make([]byte, max-1), 0); err != nil {
				return err
			}
			_, err := u.WriteAt([]byte{1}, max-1)
			return err
		}, nil, nil},
		{"Truncate past the limit", -1, func(u *Upload) error { return u.Truncate(max + 1) }, nil, ErrTruncateGrow},
		{"WriteAt at the largest offset", -1, func(u *Upload) error { _, err := u.WriteAt([]byte{1}, math.MaxInt64); return err }, nil, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withLimits(Limits{MaxFileSize: max}))
			if e.svc.Limits().MaxFileSize != max {
				t.Fatalf("Limits() = %+v", e.svc.Limits())
			}
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: tt.size})
			testkit.WantErr(t, "Create", err, tt.createErr)
			if err != nil {
				e.assertTempEmpty(t)
				return
			}
			err = tt.do(u)
			testkit.WantErr(t, "write", err, tt.writeErr)
			if err != nil {
				u.Abort()
				e.assertTempEmpty(t)
				return
			}
			if _, err := u.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Quota counts the bytes of an owner's files; a replace counts the new
// size in place of the old one.
func TestQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, withLimits(Limits{Quota: 100}))
	e.mustPut(t, "alice", PutOptions{Name: "a"}, make([]byte, 60))

	_, err := e.svc.Create(ctx, "alice", PutOptions{Name: "b", Size: 41})
	testkit.WantErr(t, "declared past the quota", err, ErrQuota)
	_, err = e.put("alice", PutOptions{Name: "b"}, make([]byte, 41))
	testkit.WantErr(t, "written past the quota", err, ErrQuota)
	e.assertTempEmpty(t)
	e.mustPut(t, "alice", PutOptions{Name: "b"}, make([]byte, 40)) // exactly full
	_, err = e.put("alice", PutOptions{Name: "c"}, []byte{1})
	testkit.WantErr(t, "full", err, ErrQuota)
	e.mustPut(t, "alice", PutOptions{Name: "c"}, nil) // empty files fit

	// Replace: a's 60 bytes are freed by its replacement.
	e.mustPut(t, "alice", PutOptions{Name: "a"}, make([]byte, 60))
	e.mustPut(t, "alice", PutOptions{Name: "a", Size: 50}, make([]byte, 50))
	_, err = e.put("alice", PutOptions{Name: "a"}, make([]byte, 61))
	testkit.WantErr(t, "replace past the quota", err, ErrQuota)
	wantContent(t, "a after a refused replace", e.mustGet(t, "bob", "a", ""), make([]byte, 50))

	// Another account has its own quota.
	e.mustPut(t, "bob", PutOptions{Name: "bob1"}, make([]byte, 100))

	// Removing frees room.
	must(t, e.svc.Remove(ctx, "alice", "b"))
	e.mustPut(t, "alice", PutOptions{Name: "d"}, make([]byte, 50))

	// Two uploads that each fit alone but not together: the second is
	// refused as it grows past what the first holds, not only at Commit.
	e2 := newEnv(t, withLimits(Limits{Quota: 100}))
	u1, err := e2.svc.Create(ctx, "alice", PutOptions{Name: "x", Size: -1})
	must(t, err)
	u2, err := e2.svc.Create(ctx, "alice", PutOptions{Name: "y", Size: -1})
	must(t, err)
	_, err = u1.Write(make([]byte, 60))
	must(t, err)
	_, err = u2.Write(make([]byte, 60))
	testkit.WantErr(t, "second upload past the room the first left", err, ErrQuota)
	u2.Abort()
	_, err = u1.Commit(ctx)
	testkit.WantErr(t, "first commit", err, nil)
	_, err = e2.svc.Info(ctx, "alice", "y")
	testkit.WantErr(t, "y", err, ErrNotFound)
	e2.assertTempEmpty(t)
	e2.assertBlobCount(t, 1)
}

// Rule 7: a download checks the content against the recorded SHA-256 and
// ends with ErrCorrupt, never a silent EOF.
func TestDownloadDetectsCorruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const size = 200 << 10
	corruptions := []struct {
		name string
		do   func(t *testing.T, path string, content []byte)
	}{
		{"byte flipped at the start", func(t *testing.T, p string, c []byte) { flip(t, p, c, 0) }},
		{"byte flipped in the middle", func(t *testing.T, p string, c []byte) { flip(t, p, c, size/2) }},
		{"byte flipped at the end", func(t *testing.T, p string, c []byte) { flip(t, p, c, size-1) }},
		{"truncated", func(t *testing.T, p string, c []byte) { must(t, os.Truncate(p, size/2)) }},
		{"truncated by one byte", func(t *testing.T, p string, c []byte) { must(t, os.Truncate(p, size-1)) }},
		{"emptied", func(t *testing.T, p string, c []byte) { must(t, os.Truncate(p, 0)) }},
		{"replaced by another content of the same size", func(t *testing.T, p string, c []byte) {
			must(t, os.WriteFile(p, testkit.RandBytes(t, size), 0o600))
		}},
	}
	readers := []struct {
		name string
		read func(d *Download) ([]byte, error)
	}{
		{"Read", readAll},
		{"io.ReadAll", func(d *Download) ([]byte, error) { return io.ReadAll(d) }},
		{"io.Copy", func(d *Download) ([]byte, error) {
			var b bytes.Buffer
			_, err := io.Copy(&b, d)
			return b.Bytes(), err
		}},
		{"ReadAt in order", func(d *Download) ([]byte, error) { return readAllAt(d, 32<<10) }},
		{"ReadAt in odd chunks", func(d *Download) ([]byte, error) { return readAllAt(d, 10007) }},
		{"ReadAt of the last chunk only", func(d *Download) ([]byte, error) {
			buf := make([]byte, 4096)
			n, err := d.ReadAt(buf, size-4096)
			if err == nil || err == io.EOF {
				// The check may come at the next read; it must come.
				_, err = d.ReadAt(buf, size)
				if err == io.EOF {
					_, err = d.Read(buf)
				}
			}
			return buf[:n], err
		}},
		{"ReadAt backwards", func(d *Download) ([]byte, error) {
			buf := make([]byte, 50<<10)
			var err error
			for off := int64(size - 50<<10); off >= 0 && err == nil; off -= 50 << 10 {
				_, err = d.ReadAt(buf, off)
				if err == io.EOF {
					err = nil
				}
			}
			return nil, err
		}},
	}
	for _, c := range corruptions {
		e := newEnv(t) // one store per corruption, one file per reader
		for _, r := range readers {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				content := testkit.RandBytes(t, size)
				e.mustPut(t, "alice", PutOptions{Name: r.name}, content)
				c.do(t, e.blobPath(t, r.name), content)
				d, err := e.svc.Open(ctx, "bob", r.name, "")
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				got, err := r.read(d)
				if err == nil || err == io.EOF {
					t.Fatalf("read %d bytes of a corrupt file without error (%v)", len(got), err)
				}
				testkit.WantErr(t, "read", err, ErrCorrupt)
				if bytes.Equal(got, content) {
					t.Error("the whole content was delivered")
				}
				if d.Verified() {
					t.Error("Verified() after corruption")
				}
				// The error sticks.
				_, err = d.Read(make([]byte, 10))
				testkit.WantErr(t, "Read after", err, ErrCorrupt)
				_, err = d.ReadAt(make([]byte, 10), 0)
				testkit.WantErr(t, "ReadAt after", err, ErrCorrupt)
			})
		}
	}
}

func flip(t *testing.T, path string, content []byte, at int) {
	t.Helper()
	b := bytes.Clone(content)
	b[at] ^= 0x01
	must(t, os.WriteFile(path, b, 0o600))
}

// An intact download read every way ends in io.EOF and is verified.
func TestDownloadIntact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, size := range []int{0, 1, 4096, 100_001} {
		content := testkit.RandBytes(t, size)
		name := strings.Repeat("f", 1) + string(rune('a'+size%26))
		e.mustPut(t, "alice", PutOptions{Name: name}, content)
		for _, how := range []string{"Read", "ReadAt"} {
			d, err := e.svc.Open(ctx, "bob", name, "")
			must(t, err)
			var got []byte
			if how == "Read" {
				got, err = io.ReadAll(d)
			} else {
				got, err = readAllAt(d, 4096)
			}
			must(t, err)
			wantContent(t, how, got, content)
			if !d.Verified() {
				t.Errorf("size %d by %s: not Verified()", size, how)
			}
			n, err := d.ReadAt(make([]byte, 1), int64(size))
			if n != 0 || err != io.EOF {
				t.Errorf("ReadAt at the end: %d, %v", n, err)
			}
			must(t, d.Close())
		}
	}
}

// Recover removes uploads in progress and contents no record refers to,
// and keeps the others.
func TestRecover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kept := testkit.RandBytes(t, 5000)
	e.mustPut(t, "alice", PutOptions{Name: "kept"}, kept)
	e.mustPut(t, "alice", PutOptions{Name: "hidden", Hidden: true, Password: "pw"}, []byte("h"))

	// A crash mid-upload leaves a temporary file...
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "partial", Size: -1})
	must(t, err)
	u.Write([]byte("half of it"))
	// ...or a committed content whose record was never written.
	orphan := commitBlob(t, e.blobs, "orphan")

	e.assertBlobCount(t, 3)
	if len(e.files(t, "tmp")) != 1 {
		t.Fatalf("tmp/: %v", e.files(t, "tmp"))
	}
	must(t, e.svc.Recover(ctx))
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 2)
	if ok, _ := e.catalog.HasBlob(ctx, orphan); ok {
		t.Fatal("orphan is referenced?")
	}
	if _, err := e.blobs.Open(ctx, orphan); err == nil {
		t.Error("orphan content still there")
	}
	wantContent(t, "kept", e.mustGet(t, "bob", "kept", ""), kept)
	wantContent(t, "hidden", e.mustGet(t, "bob", "hidden", "pw"), []byte("h"))
	_, err = e.svc.Info(ctx, "alice", "partial")
	testkit.WantErr(t, "partial", err, ErrNotFound)
	// Idempotent.
	must(t, e.svc.Recover(ctx))
	e.assertBlobCount(t, 2)
}

// Concurrent uploads to one name by its owner: one whole winner.
func TestConcurrentUploadsSameName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	const n = 8
	contents := make([][]byte, n)
	for i := range contents {
		contents[i] = testkit.RandBytes(t, 64<<10+i)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "same", Size: -1, SHA256: testkit.SHA256Hex(contents[i])})
			if err != nil {
				t.Error(err)
				return
			}
			// Write in pieces so that the uploads interleave.
			c := contents[i]
			for off := 0; off < len(c); off += 4096 {
				if _, err := u.Write(c[off:min(off+4096, len(c))]); err != nil {
					t.Error(err)
					u.Abort()
					return
				}
			}
			if _, err := u.Commit(ctx); err != nil {
				t.Errorf("upload %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	f, err := e.svc.Info(ctx, "alice", "same")
	must(t, err)
	got := e.mustGet(t, "bob", "same", "")
	winner := -1
	for i, c := range contents {
		if bytes.Equal(got, c) {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("content (%d bytes) is none of the uploads", len(got))
	}
	if f.SHA256 != testkit.SHA256Hex(got) || f.Size != int64(len(got)) {
		t.Errorf("record %+v does not match the content of upload %d", f, winner)
	}
	e.assertBlobCount(t, 1)
	e.assertTempEmpty(t)
}

// Concurrent uploads to one name by different users: exactly one owns it.
func TestConcurrentUploadsSameNameDifferentOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	users := []string{"alice", "bob", "carol", "dave"}
	ups := make([]*Upload, len(users))
	for i, u := range users {
		up, err := e.svc.Create(ctx, u, PutOptions{Name: "x", Size: -1})
		must(t, err)
		up.Write([]byte(u))
		ups[i] = up
	}
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i := range ups {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = ups[i].Commit(ctx) }()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		testkit.WantErr(t, users[i], err, ErrNameTaken)
	}
	if ok != 1 {
		t.Fatalf("%d uploads won: %v", ok, errs)
	}
	f, err := e.svc.Info(ctx, "alice", "x")
	must(t, err)
	wantContent(t, "x", e.mustGet(t, "alice", "x", ""), []byte(f.Owner))
	e.assertBlobCount(t, 1)
	e.assertTempEmpty(t)
}
