package sshd_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/sftpwire"
	"github.com/sshelf/sshelf/internal/testkit"
)

// Issue 10, point 1: an SFTP SETSTAT whose flags promise attributes the
// packet lacks crashed the whole server; so did the same FSETSTAT on an
// upload in flight. pkg/sftp's client cannot send such packets, so they go
// as raw bytes over the sftp subsystem of a real SSH session.

// rawSFTP is an SFTP session spoken packet by packet.
type rawSFTP struct {
	t      *testing.T
	ch     gossh.Channel
	r      *bufio.Reader
	status <-chan int
}

func openRawSFTP(t *testing.T, srv *apptest.Server) *rawSFTP {
	t.Helper()
	ch, status := rawSubsystem(t, srv, false)
	s := &rawSFTP{t: t, ch: ch, r: bufio.NewReader(ch), status: status}
	s.send(sftpwire.Init())
	if typ, _ := s.recv(); typ != sftpwire.FxpVersion {
		t.Fatalf("answer to INIT: type %d", typ)
	}
	return s
}

func (s *rawSFTP) send(pkt []byte) {
	s.t.Helper()
	if _, err := s.ch.Write(sftpwire.Frame(pkt)); err != nil {
		s.t.Fatalf("send packet type %d: %v", pkt[0], err)
	}
}

// recv reads one packet (bounded wait): its type and what follows.
func (s *rawSFTP) recv() (byte, []byte) {
	s.t.Helper()
	type packet struct {
		b   []byte
		err error
	}
	got := make(chan packet, 1)
	go func() {
		var n uint32
		if err := binary.Read(s.r, binary.BigEndian, &n); err != nil {
			got <- packet{err: err}
			return
		}
		if n == 0 || n > 1<<20 {
			got <- packet{err: fmt.Errorf("packet length %d", n)}
			return
		}
		b := make([]byte, n)
		_, err := io.ReadFull(s.r, b)
		got <- packet{b, err}
	}()
	select {
	case p := <-got:
		if p.err != nil {
			s.t.Fatalf("read a packet: %v (did the server die?)", p.err)
		}
		return p.b[0], p.b[1:]
	case <-time.After(30 * time.Second):
		s.t.Fatal("no answer from the server")
	}
	return 0, nil
}

// answer reads the answer to request id: a STATUS (its code and message)
// or another packet (code -1, and the packet's body).
func (s *rawSFTP) answer(id uint32) (code int, msg string, body []byte) {
	s.t.Helper()
	typ, b := s.recv()
	if len(b) < 4 || binary.BigEndian.Uint32(b) != id {
		s.t.Fatalf("answer of type %d to request %d: %x", typ, id, b)
	}
	b = b[4:]
	if typ != sftpwire.FxpStatus {
		return -1, "", append([]byte{typ}, b...)
	}
	if len(b) < 8 {
		s.t.Fatalf("short status %x", b)
	}
	code = int(binary.BigEndian.Uint32(b))
	n := binary.BigEndian.Uint32(b[4:])
	if int(n) > len(b)-8 {
		s.t.Fatalf("status message of %d bytes in %x", n, b)
	}
	return code, string(b[8 : 8+n]), nil
}

// open opens name for writing and returns the handle.
func (s *rawSFTP) open(id uint32, name string) string {
	s.t.Helper()
	s.send(sftpwire.Packet(sftpwire.FxpOpen, id, name, sftpwire.FxfWrite|sftpwire.FxfCreat|sftpwire.FxfTrunc, 0))
	code, msg, body := s.answer(id)
	if code != -1 || body[0] != sftpwire.FxpHandle {
		s.t.Fatalf("open %s: status %d %s", name, code, msg)
	}
	n := binary.BigEndian.Uint32(body[1:])
	return string(body[5 : 5+n])
}

const (
	fxOK         = 0
	fxBadMessage = 5
)

func TestSFTPMalformedSetstatIsAnErrorAndTheServerGoesOn(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	s := openRawSFTP(t, srv)

	h := s.open(1, "up")
	s.send(sftpwire.Packet(sftpwire.FxpWrite, 2, h, uint64(0), "hello"))
	if code, msg, _ := s.answer(2); code != fxOK {
		t.Fatalf("write: %d %s", code, msg)
	}
	tests := []struct {
		name     string
		pkt      []byte
		want     int
		wantText string
	}{
		// The packets of issue 10: the name need not exist.
		{"setstat of a name that does not exist", sftpwire.MalformedSetstat(10, "nothing"), fxBadMessage, "attributes"},
		{"fsetstat on the upload in flight", sftpwire.MalformedFsetstat(11, h), fxBadMessage, "attributes"},
		{"setstat of the upload's name", sftpwire.MalformedSetstat(12, "up"), fxBadMessage, "attributes"},
		{"every flag, no attributes", sftpwire.Packet(sftpwire.FxpSetstat, 13, "up", sftpwire.AttrSize|sftpwire.AttrOwner|sftpwire.AttrPerm|sftpwire.AttrTimes|sftpwire.AttrExt), fxBadMessage, "attributes"},
		{"a size cut short", sftpwire.Packet(sftpwire.FxpFsetstat, 14, h, sftpwire.AttrSize, []byte{0, 0, 0, 1}), fxBadMessage, "attributes"},
		{"times cut short", sftpwire.Packet(sftpwire.FxpFsetstat, 15, h, sftpwire.AttrTimes, []byte{0, 0, 0, 1}), fxBadMessage, "attributes"},
		{"a size past an int64", sftpwire.Packet(sftpwire.FxpFsetstat, 16, h, sftpwire.AttrSize, ^uint64(0)), fxBadMessage, "size out of range"},
		// Point 9: a truncate that would add 4 GiB of zeros.
		{"a truncate past the bytes written", sftpwire.Packet(sftpwire.FxpFsetstat, 17, h, sftpwire.AttrSize, uint64(4<<30)), fxOpUnsupported, "longer than the bytes written"},
	}
	for _, tt := range tests {
		s.send(tt.pkt)
		id := binary.BigEndian.Uint32(tt.pkt[1:])
		code, msg, _ := s.answer(id)
		if code != tt.want || !strings.Contains(msg, tt.wantText) {
			t.Errorf("%s: status %d %q, want %d with %q", tt.name, code, msg, tt.want, tt.wantText)
		}
	}
	// The same session goes on: the upload commits what was written.
	s.send(sftpwire.Packet(sftpwire.FxpClose, 20, h))
	if code, msg, _ := s.answer(20); code != fxOK {
		t.Fatalf("close: %d %s", code, msg)
	}
	s.send(sftpwire.Packet(sftpwire.FxpStat, 21, "up"))
	if code, msg, body := s.answer(21); code != -1 || body[0] != sftpwire.FxpAttrs {
		t.Errorf("stat after the malformed packets: %d %s", code, msg)
	}
	// A write at an offset pkg/sftp turns negative fails that upload only.
	h2 := s.open(22, "neg")
	s.send(sftpwire.Packet(sftpwire.FxpWrite, 23, h2, uint64(1<<63), "x"))
	if code, msg, _ := s.answer(23); code != fxBadMessage || !strings.Contains(msg, "offset") {
		t.Errorf("write at 2^63: %d %q, want %d", code, msg, fxBadMessage)
	}
	s.send(sftpwire.Packet(sftpwire.FxpClose, 24, h2))
	if code, _, _ := s.answer(24); code == fxOK {
		t.Errorf("an upload with a refused write was committed")
	}

	// A new connection works, and sees the upload whole.
	c := sftpClient(t, srv, "bob", "pw-b")
	if got, err := sftpGet(c, "up"); err != nil || string(got) != "hello" {
		t.Errorf("get up from a new connection: %q, %v", got, err)
	}
	if strings.Contains(srv.Log.String(), "panic") {
		t.Errorf("the server logged a panic:\n%s", srv.Log.String())
	}
	testkit.WaitTmpEmpty(t, srv.Data)
}

// pkg/sftp registers an open's handle before it finishes setting it up,
// and serves writes on other goroutines: a WRITE sent right behind its
// OPEN, on the handle the client guesses, raced with the open (a nil
// pointer crash under load, a race report under -race). The server holds
// what follows an open until the open is answered, so such a write always
// finds its upload.
func TestSFTPWriteRightBehindItsOpen(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	s := openRawSFTP(t, srv)
	const n = 20
	var batch bytes.Buffer
	for i := range uint32(n) {
		handle := fmt.Sprint(i + 1) // pkg/sftp numbers handles from 1
		name := fmt.Sprintf("f%d", i)
		for _, p := range [][]byte{
			sftpwire.Packet(sftpwire.FxpOpen, 3*i, name, sftpwire.FxfWrite|sftpwire.FxfCreat|sftpwire.FxfTrunc, 0),
			sftpwire.Packet(sftpwire.FxpWrite, 3*i+1, handle, uint64(0), name),
			sftpwire.Packet(sftpwire.FxpClose, 3*i+2, handle),
		} {
			batch.Write(sftpwire.Frame(p))
		}
	}
	if _, err := s.ch.Write(batch.Bytes()); err != nil { // all at once, no waiting
		t.Fatal(err)
	}
	for i := range uint32(3 * n) {
		code, msg, _ := s.answer(i)
		if i%3 != 0 && code != fxOK {
			t.Errorf("request %d (%s of f%d): status %d %s", i, []string{"", "write", "close"}[i%3], i/3, code, msg)
		}
	}
	for i := range n {
		if f := info(t, srv, fmt.Sprintf("f%d", i)); f.SHA256 != testkit.SHA256Hex(fmt.Appendf(nil, "f%d", i)) {
			t.Errorf("f%d stored as %+v", i, f)
		}
	}
}

// Point 9 through a client library: a truncate cannot make an open upload
// longer; a write far past the quota or the size limit is refused at
// once, not at close after the server stored a sparse file.
func TestSFTPUploadGrowthLimits(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, func(o *app.Options) { o.Quota = 1 << 20 })
	c := sftpClient(t, srv, "alice", "pw-a")

	f, err := c.Create("t")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("0123456789"))
	err = f.Truncate(4 << 30)
	wantStatus(t, err, fxOpUnsupported, "truncate to 4 GiB")
	if err == nil || !strings.Contains(err.Error(), "longer than the bytes written") {
		t.Errorf("truncate to 4 GiB: %v, want the reason", err)
	}
	if err := f.Truncate(4); err != nil {
		t.Errorf("truncate to less than written (as scp does): %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := info(t, srv, "t"); got.Size != 4 || got.SHA256 != testkit.SHA256Hex([]byte("0123")) {
		t.Errorf("stored %+v, want 0123", got)
	}

	for _, tt := range []struct {
		name string
		off  int64
		want string
	}{
		{"past the quota", 1 << 20, "quota exceeded"},
		{"far past the quota", 4 << 30, "quota exceeded"},
		{"at the largest offset", 1<<63 - 1, "file too large"},
	} {
		f, err := c.Create("far")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt([]byte{1}, tt.off)
		wantStatus(t, err, fxFailure, tt.name)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		wantStatus(t, f.Close(), fxFailure, tt.name+": close")
	}
	testkit.WaitTmpEmpty(t, srv.Data)

	// Two uploads at once share the quota: the second is refused as it
	// grows past what the first holds.
	a, err := c.Create("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(make([]byte, 600<<10)); err != nil {
		t.Fatal(err)
	}
	b, err := c.Create("b")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Write(make([]byte, 600<<10))
	if err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Errorf("a second upload past the quota the first holds: %v", err)
	}
	b.Close()
	if err := a.Close(); err != nil {
		t.Errorf("the first upload: %v", err)
	}
}
