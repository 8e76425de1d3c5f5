package files

import (
	"context"
	"fmt"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// An upload that keeps the old content (an SFTP open without TRUNC) has
// POSIX semantics on a new version: unwritten bytes keep their old values.
// Without KeepOld, bytes never written are refused, never stored as zeros.
func TestUploadKeepOld(t *testing.T) {
	ctx := context.Background()
	old := []byte("0123456789")
	tests := []struct {
		name    string
		keepOld bool
		do      func(u *Upload) error
		want    []byte // nil: Commit fails with wantErr
		wantErr error
	}{
		{"append at the old end", true, func(u *Upload) error {
			_, err := u.WriteAt([]byte("ab"), u.Size())
			return err
		}, []byte("0123456789ab"), nil},
		{"change bytes in the middle", true, func(u *Upload) error {
			_, err := u.WriteAt([]byte("XY"), 4)
			return err
		}, []byte("0123XY6789"), nil},
		{"resume: the rest arrives out of order", true, func(u *Upload) error {
			if _, err := u.WriteAt([]byte("cd"), 12); err != nil {
				return err
			}
			_, err := u.WriteAt([]byte("ab"), 10)
			return err
		}, []byte("0123456789abcd"), nil},
		{"scp: whole new content, then the size", true, func(u *Upload) error {
			if _, err := u.WriteAt([]byte("new"), 0); err != nil {
				return err
			}
			return u.Truncate(3)
		}, []byte("new"), nil},
		{"shorter new content without truncation keeps the old tail", true, func(u *Upload) error {
			_, err := u.WriteAt([]byte("new"), 0)
			return err
		}, []byte("new3456789"), nil},
		{"Write appends to the old content", true, func(u *Upload) error {
			_, err := u.Write([]byte("ab"))
			return err
		}, []byte("0123456789ab"), nil},
		{"truncate below the old length, then write past it", true, func(u *Upload) error {
			if err := u.Truncate(4); err != nil {
				return err
			}
			_, err := u.WriteAt([]byte("z"), 6)
			return err
		}, nil, ErrGaps},
		{"nothing written: the same content", true, func(u *Upload) error { return nil }, old, nil},
		{"a hole past the old end", true, func(u *Upload) error {
			_, err := u.WriteAt([]byte("z"), 12)
			return err
		}, nil, ErrGaps},
		{"without KeepOld a hole is refused", false, func(u *Upload) error {
			_, err := u.WriteAt([]byte("z"), 4)
			return err
		}, nil, ErrGaps},
		{"without KeepOld the old content is not kept", false, func(u *Upload) error {
			_, err := u.Write([]byte("new"))
			return err
		}, []byte("new"), nil},
		{"a truncate within the old content keeps its prefix", true, func(u *Upload) error {
			return u.Truncate(4)
		}, []byte("0123"), nil},
		{"a truncate cannot grow past the old content", true, func(u *Upload) error {
			if err := u.Truncate(11); err != ErrTruncateGrow {
				return fmt.Errorf("Truncate(11) = %v, want ErrTruncateGrow", err)
			}
			return nil
		}, old, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.mustPut(t, "alice", PutOptions{Name: "f", Size: -1}, old)
			u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1, KeepOld: tt.keepOld})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.do(u); err != nil {
				t.Fatal(err)
			}
			f, err := u.Commit(ctx)
			if tt.want == nil {
				testkit.WantErr(t, "commit", err, tt.wantErr)
				wantContent(t, "the old version after a refused commit", e.mustGet(t, "alice", "f", ""), old)
				e.assertTempEmpty(t)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Size != int64(len(tt.want)) || f.SHA256 != testkit.SHA256Hex(tt.want) {
				t.Errorf("recorded size %d sha %s, want %d %s", f.Size, f.SHA256[:12], len(tt.want), testkit.SHA256Hex(tt.want)[:12])
			}
			wantContent(t, "content", e.mustGet(t, "alice", "f", ""), tt.want)
			e.assertBlobCount(t, 1)
		})
	}
}

// An upload started from a version commits only if that version is still
// the file's: otherwise it would resurrect bytes of a replaced version.
func TestUploadKeepOldConflict(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("version one"))
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1, KeepOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Size() != int64(len("version one")) {
		t.Errorf("Size() of an upload keeping 11 old bytes = %d", u.Size())
	}
	u.WriteAt([]byte("!"), u.Size())
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("version two"))
	_, err = u.Commit(ctx)
	testkit.WantErr(t, "commit over a newer version", err, ErrConflict)
	wantContent(t, "content", e.mustGet(t, "alice", "f", ""), []byte("version two"))
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 1)
}

// Reading an upload back shows the old bytes it keeps.
func TestUploadKeepOldReadBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("0123456789"))
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1, KeepOld: true})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Abort()
	u.WriteAt([]byte("XY"), 2)
	b := make([]byte, 10)
	if n, err := u.ReadAt(b, 0); n != 10 || (err != nil && n != 10) {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	wantContent(t, "read back", b, []byte("01XY456789"))
	u.WriteAt([]byte("Z"), 9) // after the old bytes were copied in
	f, err := u.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.SHA256 != testkit.SHA256Hex([]byte("01XY45678Z")) {
		t.Errorf("sha after read back and write: %s", f.SHA256)
	}
}

// Exclusive creates only: an existing name, one's own included, is refused.
func TestUploadExclusive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "mine"}, []byte("x"))
	_, err := e.svc.Create(ctx, "alice", PutOptions{Name: "mine", Size: -1, Exclusive: true})
	testkit.WantErr(t, "exclusive create of an existing name", err, ErrExists)
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "new", Size: -1, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("a"))
	e.mustPut(t, "alice", PutOptions{Name: "new"}, []byte("raced in"))
	_, err = u.Commit(ctx)
	testkit.WantErr(t, "exclusive commit after another created the name", err, ErrExists)
	wantContent(t, "content", e.mustGet(t, "alice", "new", ""), []byte("raced in"))
}

// MustExist (an open without CREAT) refuses a name that does not exist.
func TestUploadMustExist(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, err := e.svc.Create(ctx, "alice", PutOptions{Name: "missing", Size: -1, MustExist: true})
	testkit.WantErr(t, "open without CREAT of a missing name", err, ErrNotFound)
	e.mustPut(t, "alice", PutOptions{Name: "there"}, []byte("x"))
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "there", Size: -1, MustExist: true, KeepOld: true})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("y"))
	if _, err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantContent(t, "content", e.mustGet(t, "alice", "there", ""), []byte("xy"))
	e.assertTempEmpty(t)
}
