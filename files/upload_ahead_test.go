package files

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Writes landing a little out of order, as from pkg/sftp's workers, are
// hashed in one pass: the hash is complete before Commit.
func TestUploadHashesOutOfOrderWritesInOnePass(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := testkit.RandBytes(t, 1<<20+1234)
	const chunk = 32 << 10
	var offs []int
	for off := 0; off < len(content); off += chunk {
		offs = append(offs, off)
	}
	// Shuffle within windows of 8, like 8 workers.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(offs); i += 8 {
		w := offs[i:min(i+8, len(offs))]
		r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
	}
	up, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range offs {
		end := min(off+chunk, len(content))
		// Split some writes so that ranges ahead touch and merge.
		mid := off + (end-off)/3
		for _, p := range [][2]int{{mid, end}, {off, mid}} {
			if _, err := up.WriteAt(content[p[0]:p[1]], int64(p[0])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !up.inOrder || up.hashed != int64(len(content)) || len(up.ahead) != 0 {
		t.Fatalf("hashed %d of %d (in order %v, %d ranges ahead): want all in one pass",
			up.hashed, len(content), up.inOrder, len(up.ahead))
	}
	f, err := up.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.SHA256 != testkit.SHA256Hex(content) {
		t.Fatalf("sha256 %s, want %s", f.SHA256, testkit.SHA256Hex(content))
	}
}

// A range written ahead and rewritten before the prefix reaches it is
// hashed with its final bytes; rewriting hashed bytes falls back to
// hashing again at Commit. Either way the recorded hash is the content's.
func TestUploadHashAfterRewrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		writes []struct{ off, n int }
	}{
		{"rewrite ahead", []struct{ off, n int }{{100, 50}, {120, 10}, {0, 100}, {150, 50}}},
		{"rewrite hashed", []struct{ off, n int }{{0, 100}, {50, 10}, {100, 100}}},
		{"gap then fill", []struct{ off, n int }{{150, 50}, {50, 50}, {0, 50}, {100, 50}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]byte, 200)
			up, err := e.svc.Create(ctx, "alice", PutOptions{Name: tc.name, Size: -1})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.writes {
				p := testkit.RandBytes(t, w.n)
				copy(want[w.off:], p)
				if _, err := up.WriteAt(p, int64(w.off)); err != nil {
					t.Fatal(err)
				}
			}
			f, err := up.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.SHA256 != testkit.SHA256Hex(want) {
				t.Fatalf("sha256 %s, want %s", f.SHA256, testkit.SHA256Hex(want))
			}
			wantContent(t, "download", e.mustGet(t, "alice", tc.name, ""), want)
		})
	}
}
