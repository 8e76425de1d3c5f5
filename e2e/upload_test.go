package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// startUpload starts `ssh ... put NAME` with stdin from a pipe.
func startUpload(t *testing.T, srv *server, user, pw, name string) (*exec.Cmd, io.WriteCloser, *bytes.Buffer, *bytes.Buffer, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*sshTimeout)
	cmd := srv.sshCommand(ctx, sshOpts{user: user, pw: pw}, "put", q(name))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, stdin, &stdout, &stderr, cancel
}

// Rule 6 and the trap in issue 2: a client killed mid-upload stores nothing
// and leaves no temporary file behind, also when it would have replaced a
// file.
func TestKilledUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	keep := []byte("keep me whole\n")
	put(t, srv, "alice", alicePW, "keep.txt", keep)
	before := contentFiles(t, srv.dataDir())
	t.Logf("content files before: %q", before)

	cases := []struct {
		label, name string
		size        int
		pause       time.Duration
	}{
		// More than the SSH windows and pipe buffers hold, so the server
		// has certainly read part of it when the client dies.
		{"6MB new file", "big", 6 << 20, 0},
		// Small enough to be wholly in flight; the client dies after the
		// server had time to receive it all, but before stdin's EOF.
		{"64KB new file", "small", 64 << 10, 1500 * time.Millisecond},
		// Replacing an existing file.
		{"6MB replace", "keep.txt", 6 << 20, 0},
	}
	for _, c := range cases {
		cmd, stdin, _, stderr, _ := startUpload(t, srv, "alice", alicePW, c.name)
		data := testkit.RandBytes(t, c.size)
		if _, err := stdin.Write(data); err != nil {
			t.Fatalf("%s: writing to ssh: %v (stderr %q)", c.label, err, stderr.String())
		}
		if c.pause > 0 {
			time.Sleep(c.pause)
		}
		// kill -9: no EOF, no channel close from the client.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		stdin.Close()

		waitContentFiles(t, srv.dataDir(), before, 15*time.Second)
		if c.name == "keep.txt" {
			if got := get(t, srv, "bob", bobPW, "keep.txt"); !bytes.Equal(got, keep) {
				t.Errorf("%s: killed replace changed keep.txt: got %d bytes", c.label, len(got))
			}
			continue
		}
		r := do(t, srv, "bob", bobPW, nil, "info", c.name)
		if r.code != 1 {
			t.Errorf("%s: info %s after killed upload: want exit 1, got %v", c.label, c.name, r)
		}
		if contains(lsNames(t, srv, "bob", bobPW), c.name) {
			t.Errorf("%s: killed upload is listed", c.label)
		}
	}
	// And the server still takes uploads fine.
	put(t, srv, "alice", alicePW, "after.txt", []byte("after"))
	// In the server's layout: DATA/tmp is empty and DATA/blobs holds one
	// file per committed file (keep.txt, after.txt).
	checkLayout(t, srv.dataDir(), 2)
	if w := srv.inst.outsideWrites(t); len(w) != 0 {
		t.Errorf("the server wrote outside its data directory: %q", w)
	}
}

// A streamed upload that ends normally is stored whole: the harness's pipe
// variant of put (writes in pieces, then closes stdin).
func TestStreamedUploadCompletes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cmd, stdin, stdout, stderr, _ := startUpload(t, srv, "alice", alicePW, "streamed.bin")
	data := testkit.RandBytes(t, 3<<20)
	for off := 0; off < len(data); off += 100 << 10 {
		end := min(off+100<<10, len(data))
		if _, err := stdin.Write(data[off:end]); err != nil {
			t.Fatalf("write: %v (%s)", err, stderr.String())
		}
	}
	stdin.Close()
	if code := exitCode(cmd.Wait()); code != 0 {
		t.Fatalf("streamed put: exit %d, stderr %q", code, stderr.String())
	}
	if want := testkit.SHA256Hex(data) + "  streamed.bin\n"; stdout.String() != want {
		t.Fatalf("streamed put printed %q, want %q", stdout.String(), want)
	}
	if got := get(t, srv, "bob", bobPW, "streamed.bin"); !bytes.Equal(got, data) {
		t.Fatalf("get streamed.bin: %d bytes, sha %s", len(got), testkit.SHA256Hex(got))
	}
}

// checkLayout checks DATA/tmp is empty and DATA/blobs holds committed
// files, when the data dir has that layout.
func checkLayout(t *testing.T, dataDir string, committed int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "tmp")); err == nil {
		if left := allFiles(t, filepath.Join(dataDir, "tmp")); len(left) != 0 {
			t.Errorf("DATA/tmp is not empty: %q", left)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "blobs")); err == nil {
		if blobs := allFiles(t, filepath.Join(dataDir, "blobs")); len(blobs) != committed {
			t.Errorf("DATA/blobs holds %d files, want %d (one per committed file): %q", len(blobs), committed, blobs)
		}
	}
}
