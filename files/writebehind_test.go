package files

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// TestWriteBehindFollowsTheFront: write-back follows a stream chunk by
// chunk, a write far ahead moves the front there instead of walking every
// chunk in between (a fuzzed SFTP write at 2^62 once spun here), and empty
// or earlier writes change nothing.
func TestWriteBehindFollowsTheFront(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const c = writeBehindChunk
	var wb writeBehind
	defer wb.wait()
	for _, step := range []struct {
		what       string
		start, end int64
		next       int64
	}{
		{"less than a chunk", 0, c - 1, 0},
		{"the first chunk complete", c - 1, c + 10, c},
		{"three more chunks at once", c + 10, 4*c + 5, 4 * c},
		{"an empty write far ahead", 1 << 62, 1 << 62, 4 * c},
		{"a write behind the front", 10, 20, 4 * c},
		{"a write far ahead", 1 << 40, 1<<40 + 5, 1 << 40},
		{"a stream from there", 1<<40 + 5, 1<<40 + c + 1, 1<<40 + c},
	} {
		wb.wrote(f, step.start, step.end)
		if wb.next != step.next {
			t.Fatalf("%s: front at %d, want %d", step.what, wb.next, step.next)
		}
	}
}

// Chunks go to the upload's goroutine, which writes them back and syncs
// every syncAheadEvery bytes; wait ends it (the chunks still queued are
// left to the final sync).
func TestWriteBehindSyncsAhead(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wb writeBehind
	wb.wrote(f, 0, writeBehindChunk-1)
	if wb.work != nil {
		t.Fatal("a goroutine before a whole chunk")
	}
	// The writer waits for the goroutine once writeBehindQueue chunks
	// queue, so by the last hand-over it took all but those.
	wb.wrote(f, writeBehindChunk-1, syncAheadEvery+(writeBehindQueue+1)*writeBehindChunk)
	done := wb.done
	wb.wait()
	select {
	case <-done:
	default:
		t.Fatal("wait returned with the goroutine running")
	}
	if n := wb.syncs.Load(); n != 1 {
		t.Errorf("%d background syncs after syncAheadEvery bytes, want 1", n)
	}
	wb.wait() // a second wait, as remove after store does
}

// A spool file's write-back goroutine ends with its upload, committed or
// aborted, and the content committed is whole.
func TestSpoolWriteBehindEndsWithTheUpload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := NewStoresForTest(t, dir).Blobs
	if _, ok := b.(Adopter); !ok {
		t.Skip("write-back is for a store that keeps the spool file")
	}
	sp := spool{dir: dir}
	content := testkit.RandBytes(t, 3*writeBehindChunk+5)
	for _, commit := range []bool{false, true} {
		w, err := sp.create(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(content); off += 256 << 10 {
			if _, err := w.WriteAt(content[off:min(off+256<<10, len(content))], int64(off)); err != nil {
				t.Fatal(err)
			}
		}
		if w.behind.work == nil {
			t.Fatal("no write-back goroutine after three chunks")
		}
		done := w.behind.done
		if commit {
			if got := storeAndRead(t, ctx, b, w, int64(len(content))); !bytes.Equal(got, content) {
				t.Error("committed content differs")
			}
		} else if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		default:
			t.Errorf("commit %v: the write-back goroutine outlived its upload", commit)
		}
	}
}
