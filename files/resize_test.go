package files

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// TestResize: a stored file never changes size in place; its own size is
// accepted from its owner only (SFTP clients set it after an upload).
func TestResize(t *testing.T) {
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("12345"))
	ctx := context.Background()
	for _, tc := range []struct {
		what, user, name string
		size             int64
		want             error
	}{
		{"owner, same size", "alice", "f", 5, nil},
		{"owner, shorter", "alice", "f", 2, ErrInPlace},
		{"owner, longer", "alice", "f", 1 << 40, ErrInPlace},
		{"another user, same size", "bob", "f", 5, ErrPermission},
		{"missing file", "alice", "nope", 0, ErrNotFound},
		{"bad name", "alice", "a/b", 0, ErrBadName},
	} {
		testkit.WantErr(t, tc.what, e.svc.Resize(ctx, tc.user, tc.name, tc.size), tc.want)
	}
	if f, err := e.svc.Info(ctx, "alice", "f"); err != nil || f.Size != 5 {
		t.Fatalf("after the refusals: %+v, %v", f, err)
	}
}

// TestDownloadNegativeOffset: a read at a negative offset is the caller's
// error, never a corruption alarm, and the download stays usable.
func TestDownloadNegativeOffset(t *testing.T) {
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("12345"))
	d, err := e.svc.Open(context.Background(), "bob", "f", "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 5)
	if _, err := d.ReadAt(buf, -1); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadAt(-1) = %v, want an error that is not ErrCorrupt", err)
	}
	if n, err := d.ReadAt(buf, 0); n != 5 || string(buf) != "12345" || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt(0) after it = %d %q %v", n, buf, err)
	}
}
