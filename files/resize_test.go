package files

import (
	"context"
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
