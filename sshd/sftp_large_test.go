package sshd_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/testkit"
)

// TestSFTPLargeTransferMemory uploads and downloads a large file (1 GiB by
// default) through the in-process server and reports the peak heap: it
// stays flat, whatever the size, because nothing holds a file in memory.
// Client and server share the process, so the figure covers both.
//
//	SSHELF_LARGE_TEST=1 go test -run LargeTransferMemory -v ./sshd/
//
// SSHELF_LARGE_TEST_MB sets the size in MiB.
func TestSFTPLargeTransferMemory(t *testing.T) {
	if testing.Short() || os.Getenv("SSHELF_LARGE_TEST") == "" {
		t.Skip("set SSHELF_LARGE_TEST=1 to transfer 1 GiB")
	}
	size := int64(1 << 30)
	if mb, err := strconv.Atoi(os.Getenv("SSHELF_LARGE_TEST_MB")); err == nil && mb > 0 {
		size = int64(mb) << 20
	}
	srv := apptest.Start(t, nil)
	c := sftpClientOpts(t, srv, "alice", "pw-a", nil,
		sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))

	peak := testkit.SampleHeap(t)
	start := time.Now()
	f, err := c.Create("large")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(newPRNGReader(1), size), h)
	if _, err := f.ReadFrom(src); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	up := time.Since(start)
	want := hex.EncodeToString(h.Sum(nil))
	if got := info(t, srv, "large"); got.SHA256 != want || got.Size != size {
		t.Fatalf("recorded %s (%d bytes), want %s (%d)", got.SHA256, got.Size, want, size)
	}

	start = time.Now()
	r, err := c.Open("large")
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	n, err := r.WriteTo(h)
	r.Close()
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("download: %d bytes, %v", n, err)
	}
	down := time.Since(start)
	heap := peak()
	t.Logf("%d MiB: upload %v, download %v; peak heap in use %.1f MiB; peak RSS %s",
		size>>20, up.Round(time.Millisecond), down.Round(time.Millisecond), float64(heap)/(1<<20), peakRSS())
	if heap > 256<<20 {
		t.Errorf("peak heap %d MiB for a %d MiB transfer: memory is not flat", heap>>20, size>>20)
	}
}

// peakRSS is the process's peak resident set (VmHWM), where Linux says.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// prngReader is a fast, endless stream of pseudo-random bytes.
type prngReader struct{ r *rand.ChaCha8 }

func newPRNGReader(seed byte) *prngReader {
	var s [32]byte
	s[0] = seed
	return &prngReader{rand.NewChaCha8(s)}
}

func (p *prngReader) Read(b []byte) (int, error) { return p.r.Read(b) }
