// Package sshdfuzz fuzzes sshd's SFTP and scp servers, over an in-memory
// catalog and throttle store and the disk store: in a test binary of its
// own, without the SQLite that sshd's other tests link, whose coverage
// counters made the fuzzer several times slower (each call between the
// fuzzer's processes carries all of them).
package sshdfuzz

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/memory"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/sftpwire"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/memthrottle"
	"github.com/sshelf/sshelf/sshd"
)

// FuzzSFTP feeds packets into the SFTP request server with sshelf's real
// handlers over a real files.Service, as one session of user "fuzz" (bob
// owns a public, a hidden and a protected file). Whatever the packets, no
// handler panics (a recovered panic fails the target: recovery is the last
// line, not the fix), the session ends when its input does, and it leaves
// no upload behind; every stored file matches its recorded SHA-256.
//
// An input is a sequence of packets, each a 2-byte big-endian length and
// that many bytes (type, then body); the harness sends the SFTP INIT first
// and adds the 4-byte length the wire wants. pkg/sftp numbers handles "1",
// "2", ... in the order of the opens, failed ones included.
func FuzzSFTP(f *testing.F) {
	for _, seed := range sftpSeeds() {
		f.Add(fuzzFrames(seed...))
	}
	h := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h.run(t, splitFrames(data))
	})
}

// sftpSeeds are sessions worth starting from: every request type, and the
// malformed packets of issue 10 among them.
func sftpSeeds() [][][]byte {
	p := sftpwire.Packet
	none := []byte{}
	openW := func(id uint32, name string) []byte {
		return p(sftpwire.FxpOpen, id, name, sftpwire.FxfWrite|sftpwire.FxfCreat|sftpwire.FxfTrunc, 0)
	}
	write := func(id uint32, handle string, off uint64, data string) []byte {
		return p(sftpwire.FxpWrite, id, handle, off, data)
	}
	return [][][]byte{
		// The crash: SETSTAT with flags and no attributes, on a name that
		// does not exist and on one that does.
		{sftpwire.MalformedSetstat(1, "nothing")},
		{sftpwire.MalformedSetstat(1, "shared"), p(sftpwire.FxpSetstat, 2, "shared", sftpwire.AttrPerm, none)},
		{p(sftpwire.FxpSetstat, 1, "shared", sftpwire.AttrSize|sftpwire.AttrOwner|sftpwire.AttrPerm|sftpwire.AttrTimes|sftpwire.AttrExt, none)},
		{p(sftpwire.FxpSetstat, 1, "shared", sftpwire.AttrSize, []byte{0, 0, 1})}, // a size cut short
		// The same through FSETSTAT on an upload in flight.
		{openW(1, "up"), write(2, "1", 0, "hello"), sftpwire.MalformedFsetstat(3, "1"), p(sftpwire.FxpClose, 4, "1")},
		{openW(1, "up"), p(sftpwire.FxpFsetstat, 2, "1", sftpwire.AttrSize, none), write(3, "1", 0, "x"), p(sftpwire.FxpClose, 4, "1")},
		// Point 9: a truncate far past the bytes written, and sizes and
		// offsets past what an int64 holds.
		{openW(1, "up"), write(2, "1", 0, "0123456789"), p(sftpwire.FxpFsetstat, 3, "1", sftpwire.AttrSize, uint64(4<<30)), p(sftpwire.FxpClose, 4, "1")},
		{openW(1, "up"), p(sftpwire.FxpFsetstat, 2, "1", sftpwire.AttrSize, ^uint64(0)), p(sftpwire.FxpClose, 3, "1")},
		{openW(1, "up"), write(2, "1", 1<<63, "x"), write(3, "1", 4<<30, "x"), p(sftpwire.FxpClose, 4, "1")},
		{p(sftpwire.FxpOpen, 1, "shared", sftpwire.FxfRead, 0), p(sftpwire.FxpRead, 2, "1", uint64(1<<63), 100), p(sftpwire.FxpRead, 3, "1", uint64(0), 1<<30), p(sftpwire.FxpClose, 4, "1")},
		// Ordinary sessions: an upload with fstat, fsetstat and a truncate
		// (scp), a resume, a read-write handle, listings and commands.
		{openW(1, "a"), write(2, "1", 0, "abcdef"), p(sftpwire.FxpFstat, 3, "1"), p(sftpwire.FxpFsetstat, 4, "1", sftpwire.AttrSize|sftpwire.AttrPerm|sftpwire.AttrTimes, uint64(3), 0o644, 1, 2), p(sftpwire.FxpClose, 5, "1"), p(sftpwire.FxpStat, 6, "a")},
		{openW(1, "a"), write(2, "1", 0, "abc"), p(sftpwire.FxpClose, 3, "1"), p(sftpwire.FxpOpen, 4, "a", sftpwire.FxfWrite, 0), write(5, "2", 3, "def"), p(sftpwire.FxpClose, 6, "2")},
		{p(sftpwire.FxpOpen, 1, "rw", sftpwire.FxfRead|sftpwire.FxfWrite|sftpwire.FxfCreat, 0), write(2, "1", 0, "xyz"), p(sftpwire.FxpRead, 3, "1", uint64(1), 10), p(sftpwire.FxpClose, 4, "1")},
		{p(sftpwire.FxpOpendir, 1, "/"), p(sftpwire.FxpReaddir, 2, "1"), p(sftpwire.FxpReaddir, 3, "1"), p(sftpwire.FxpClose, 4, "1")},
		{p(sftpwire.FxpRealpath, 1, "."), p(sftpwire.FxpStat, 2, "/"), p(sftpwire.FxpLstat, 3, "hidden"), p(sftpwire.FxpStat, 4, "a/b"), p(sftpwire.FxpReadlink, 5, "x")},
		{openW(1, "m"), write(2, "1", 0, "m"), p(sftpwire.FxpClose, 3, "1"), p(sftpwire.FxpRename, 4, "m", "n"), p(sftpwire.FxpSetstat, 5, "n", sftpwire.AttrPerm, 0o600), p(sftpwire.FxpRemove, 6, "n")},
		{p(sftpwire.FxpMkdir, 1, "d", 0), p(sftpwire.FxpRmdir, 2, "d"), p(sftpwire.FxpSymlink, 3, "a", "b"), p(sftpwire.FxpRemove, 4, "shared"), p(sftpwire.FxpRename, 5, "shared", "mine")},
		{p(sftpwire.FxpExtended, 1, "posix-rename@openssh.com", "a", "b"), p(sftpwire.FxpExtended, 2, "statvfs@openssh.com", "/"), p(sftpwire.FxpExtended, 3, "hardlink@openssh.com", "a", "b")},
		// The extension the guard answers itself (sftp_limits.go), then a
		// write of the size it announces.
		{p(sftpwire.FxpExtended, 1, "limits@openssh.com"), openW(2, "big"), write(3, "1", 0, strings.Repeat("b", 4000)), p(sftpwire.FxpExtended, 4, "limits@openssh.com", "x"), p(sftpwire.FxpClose, 5, "1")},
		{p(sftpwire.FxpOpen, 1, "secret", sftpwire.FxfRead, 0), p(sftpwire.FxpOpen, 2, "hidden", sftpwire.FxfRead, 0), p(sftpwire.FxpRead, 3, "2", uint64(0), 10), p(sftpwire.FxpClose, 4, "2"), p(sftpwire.FxpClose, 5, "9")},
		{p(sftpwire.FxpOpen, 1, "shared", sftpwire.FxfWrite|sftpwire.FxfExcl|sftpwire.FxfCreat, 0), p(sftpwire.FxpOpen, 2, "new", sftpwire.FxfWrite, 0), p(sftpwire.FxpOpen, 3, "x", 0, 0)},
	}
}

// fuzzFrames writes packets in the fuzz input's framing.
func fuzzFrames(pkts ...[]byte) []byte {
	var b []byte
	for _, p := range pkts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

// splitFrames reads the fuzz input's framing; a last frame cut short is
// sent as far as it goes.
func splitFrames(data []byte) [][]byte {
	var pkts [][]byte
	for len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		n = min(n, len(data))
		pkts = append(pkts, data[:n])
		data = data[n:]
	}
	return pkts
}

// fuzzHarness is one files.Service for every input, reset between them;
// FuzzSCP uses it too.
type fuzzHarness struct {
	srv  *sshd.Server
	svc  *files.Service
	cat  *puttingCatalog
	data string
	logs *panicLog
}

func newFuzzHarness(tb testing.TB) *fuzzHarness {
	ctx := context.Background()
	data := fastTempDir(tb)
	// The catalog and the throttle counts in memory: the SQLite stores
	// are tested on their own, and built with the fuzzer's instrumentation
	// they made every input several times slower.
	cat := &puttingCatalog{Catalog: memory.New()}
	blobs, err := disk.New(data)
	if err != nil {
		tb.Fatal(err)
	}
	attempts := memthrottle.New()
	svc := files.NewService(files.Config{
		Attempts: attempts,
		Catalog:  cat, Blobs: blobs, SpoolDir: blobs.TempDir(),
		Hasher: testkit.CheapHasher(2),
		// Small limits keep the disk use of an input bounded, and reach
		// the quota and size checks.
		Limits:         files.Limits{MaxFileSize: 256 << 10, Quota: 1 << 20},
		PasswordPolicy: throttle.Policy{MaxFailures: 1000, Window: time.Minute, Lockout: time.Minute},
	})
	for _, f := range []struct {
		name   string
		hidden bool
		pw     string
	}{{"shared", false, ""}, {"hidden", true, ""}, {"secret", false, "pw"}} {
		up, err := svc.Create(ctx, "bob", files.PutOptions{Name: f.name, Hidden: f.hidden, Password: f.pw, Size: -1})
		if err != nil {
			tb.Fatal(err)
		}
		up.Write([]byte(strings.Repeat(f.name, 100)))
		if _, err := up.Commit(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	logs := &panicLog{}
	srv := sshd.New(sshd.Config{Files: svc, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))})
	return &fuzzHarness{srv: srv, svc: svc, cat: cat, data: data, logs: logs}
}

// fastTempDir is a temporary directory in memory where there is one: the
// target commits files, and fsync on a disk would bound it to a few
// hundred inputs a second.
func fastTempDir(tb testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "sshelf-fuzz-"); err == nil {
			tb.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// run serves one session of pkts and checks what it left.
func (h *fuzzHarness) run(t *testing.T, pkts [][]byte) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := newPipeConn()
	rs := h.srv.SFTPServer(ctx, "fuzz", "fuzz:1", ops.Settings{}, conn.server)
	served := make(chan error, 1)
	go func() { served <- rs.Serve() }()
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, conn.fromServer); close(drained) }()

	// The client's side. The server may end the session before the
	// input does (a packet it cannot parse), which is its right: the
	// writes then fail once it closed its end.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		w := conn.toServer
		defer w.Close()
		for _, p := range append([][]byte{sftpwire.Init()}, pkts...) {
			if _, err := w.Write(sftpwire.Frame(p)); err != nil {
				return
			}
		}
	}()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("the session did not end after its input:\n%s", buf[:runtime.Stack(buf, true)])
	}
	rs.Close()
	<-sent
	<-drained
	h.after(t)
}

// after checks what a session left and resets the service.
func (h *fuzzHarness) after(t *testing.T) {
	if msg := h.logs.take(); msg != "" {
		t.Fatalf("a handler panicked:\n%s", msg)
	}
	if left, _ := os.ReadDir(filepath.Join(h.data, "tmp")); len(left) > 0 {
		t.Fatalf("the session left %d uploads behind", len(left))
	}
	h.checkAndReset(t)
}

// checkAndReset reads every file the session stored, which checks it
// against its SHA-256 (rule 7), and removes them for the next input.
func (h *fuzzHarness) checkAndReset(t *testing.T) {
	if !h.cat.put.Swap(false) {
		return // most inputs store nothing: spare the queries
	}
	ctx := context.Background()
	names, err := h.cat.OwnedBy(ctx, "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		d, err := h.svc.Open(ctx, "fuzz", name, "")
		if err != nil {
			t.Fatalf("open stored %q: %v", name, err)
		}
		_, err = io.Copy(io.Discard, d)
		d.Close()
		if err != nil {
			t.Fatalf("read stored %q: %v", name, err)
		}
	}
	if _, err := h.svc.RemoveOwnedBy(ctx, "fuzz"); err != nil {
		t.Fatal(err)
	}
}

// puttingCatalog notes that a record was stored.
type puttingCatalog struct {
	files.Catalog
	put atomic.Bool
}

func (c *puttingCatalog) Put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	old, err := c.Catalog.Put(ctx, rec, check)
	if err == nil {
		c.put.Store(true)
	}
	return old, err
}

// pipeConn is an SFTP connection in memory, with an end of input the
// client can send (net.Pipe has no half close).
type pipeConn struct {
	server     io.ReadWriteCloser
	toServer   io.WriteCloser
	fromServer io.Reader
}

func newPipeConn() *pipeConn {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	return &pipeConn{server: serverEnd{inR, outW}, toServer: inW, fromServer: outR}
}

type serverEnd struct {
	*io.PipeReader
	*io.PipeWriter
}

func (e serverEnd) Close() error {
	e.PipeReader.Close()
	return e.PipeWriter.Close()
}

// panicLog keeps what the server logs at error level: a recovered panic.
type panicLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *panicLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *panicLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}
