package sshd

import (
	"bytes"
	"github.com/sshelf/sshelf/internal/sftpwire"
	"io"
	"testing"
	"time"
)

func TestFrameCounter(t *testing.T) {
	open := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpOpen, 1, "f", sftpwire.FxfWrite, 0))
	write := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpWrite, 2, "1", uint64(0), "data"))
	empty := sftpwire.Frame(nil)
	stream := bytes.Join([][]byte{open, empty, write}, nil)
	tests := []struct {
		name  string
		split func([]byte) [][]byte
	}{
		{"whole", func(b []byte) [][]byte { return [][]byte{b} }},
		{"byte by byte", func(b []byte) [][]byte {
			var out [][]byte
			for i := range b {
				out = append(out, b[i:i+1])
			}
			return out
		}},
		{"across frames", func(b []byte) [][]byte {
			return [][]byte{b[:3], b[3 : len(open)+2], b[len(open)+2 : len(open)+5], b[len(open)+5:]}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c frameCounter
			var types []byte
			total := 0
			for _, p := range tt.split(stream) {
				done, typ := c.scan(p)
				total += done
				if done > 0 {
					types = append(types, typ)
				}
			}
			if total != 3 || c.frames != 3 || c.inFrame() != 0 {
				t.Errorf("counted %d frames (%d), %d bytes into one; want 3 whole", total, c.frames, c.inFrame())
			}
			if tt.name == "byte by byte" && !bytes.Equal(types, []byte{sftpwire.FxpOpen, 0, sftpwire.FxpWrite}) {
				t.Errorf("types %v", types)
			}
		})
	}
}

// After an OPEN, the guard gives the request server nothing more until an
// answer went out: the write behind it waits (sftp_guard.go).
func TestSFTPGuardHoldsWhatFollowsAnOpen(t *testing.T) {
	open := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpOpen, 1, "f", sftpwire.FxfWrite, 0))
	write := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpWrite, 2, "1", uint64(0), "data"))
	conn := &fakeChannel{in: bytes.NewReader(append(append([]byte(nil), open...), write...))}
	g := newSFTPGuard(conn)
	// The open passes, as pkg/sftp reads it: length, then body.
	got := make([]byte, len(open))
	if _, err := io.ReadFull(g, got[:4]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(g, got[4:]); err != nil || !bytes.Equal(got, open) {
		t.Fatalf("open read as %x, %v", got, err)
	}
	next := make(chan []byte)
	go func() {
		b := make([]byte, len(write))
		io.ReadFull(g, b)
		next <- b
	}()
	select {
	case <-next:
		t.Fatal("the write went in before the open was answered")
	case <-time.After(100 * time.Millisecond): // a wait for something that must not happen
	}
	// The answer, in two writes as pkg/sftp sends it.
	handle := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpHandle, 1, "1"))
	g.Write(handle[:6])
	select {
	case <-next:
		t.Fatal("the write went in before the whole answer was out")
	case <-time.After(50 * time.Millisecond):
	}
	g.Write(handle[6:])
	select {
	case b := <-next:
		if !bytes.Equal(b, write) {
			t.Errorf("write read as %x", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write was held after the answer")
	}
	if !bytes.Equal(conn.out.Bytes(), handle) {
		t.Errorf("answer passed on as %x", conn.out.Bytes())
	}
}

// Closing the guard ends a read held for an answer that will not come.
func TestSFTPGuardCloseEndsAHeldRead(t *testing.T) {
	open := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpOpen, 1, "f", sftpwire.FxfWrite, 0))
	g := newSFTPGuard(&fakeChannel{in: bytes.NewReader(append(open, open...))})
	io.ReadFull(g, make([]byte, len(open)))
	done := make(chan error)
	go func() {
		_, err := g.Read(make([]byte, 4))
		done <- err
	}()
	g.Close()
	wantHeldEOF(t, done, "after Close")
}

// A read held because sftpInFlight requests are unanswered ends once an
// answer cannot be written: the client dropped its connection with
// requests in flight, and the channel will never take their answers.
// (Before, the read waited for them for ever, and so did the session, its
// upload and its place in the session counts.)
func TestSFTPGuardLostChannelEndsAHeldRead(t *testing.T) {
	write := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpWrite, 1, "h", uint64(0), "data"))
	conn := &deadChannel{in: bytes.NewReader(bytes.Repeat(write, sftpInFlight+1))}
	g := newSFTPGuard(conn)
	g.out.frames = 1 // pkg/sftp's VERSION went out
	held := readPastInFlight(t, g, len(write))
	if _, err := g.Write(sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStatus, 1, 0, "", ""))); err == nil {
		t.Fatal("a write to a dead channel succeeded")
	}
	wantHeldEOF(t, held, "after the channel died")
}

// wantHeldEOF waits (bounded) for a held read to end with EOF.
func wantHeldEOF(t *testing.T, read <-chan error, when string) {
	t.Helper()
	select {
	case err := <-read:
		if err != io.EOF {
			t.Errorf("held read %s: %v, want EOF", when, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a held read did not end %s", when)
	}
}

// deadChannel is a channel whose peer is gone: what was sent before is
// read, writes fail.
type deadChannel struct{ in io.Reader }

func (c *deadChannel) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *deadChannel) Write(p []byte) (int, error) { return 0, io.EOF }
func (c *deadChannel) Close() error                { return nil }

type fakeChannel struct {
	in  io.Reader
	out bytes.Buffer
}

func (c *fakeChannel) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *fakeChannel) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *fakeChannel) Close() error                { return nil }

// The guard adds limits@openssh.com to pkg/sftp's VERSION, however
// pkg/sftp splits its writes, and passes what follows unchanged.
func TestSFTPGuardAnnouncesLimits(t *testing.T) {
	version := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpVersion, 3, "posix-rename@openssh.com", "1"))
	status := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStatus, 1, 0, "", ""))
	want := append(sftpwire.Frame(sftpwire.Packet(sftpwire.FxpVersion, 3, "posix-rename@openssh.com", "1", "limits@openssh.com", "1")), status...)
	for _, cut := range []int{1, 5, len(version) - 1, len(version), len(version) + 3} {
		conn := &fakeChannel{in: bytes.NewReader(nil)}
		g := newSFTPGuard(conn)
		all := append(append([]byte(nil), version...), status...)
		if n, err := g.Write(all[:cut]); n != cut || err != nil {
			t.Fatalf("cut %d: write %d, %v", cut, n, err)
		}
		if n, err := g.Write(all[cut:]); n != len(all)-cut || err != nil {
			t.Fatalf("cut %d: write %d, %v", cut, n, err)
		}
		if !bytes.Equal(conn.out.Bytes(), want) {
			t.Errorf("cut %d: passed on %x, want %x", cut, conn.out.Bytes(), want)
		}
		if g.answered != 2 {
			t.Errorf("cut %d: counted %d answers, want 2", cut, g.answered)
		}
	}
}

// A limits request after the VERSION is answered by the guard and never
// reaches pkg/sftp; other requests, extended or not, pass unchanged.
func TestSFTPGuardAnswersLimits(t *testing.T) {
	limits := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpExtended, 5, "limits@openssh.com"))
	other := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpExtended, 6, "statvfs@openssh.com", "/"))
	stat := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStat, 7, "f"))
	init := sftpwire.Frame(sftpwire.Init())
	in, inW := io.Pipe()
	conn := &fakeChannel{in: in}
	g := newSFTPGuard(conn)
	go func() {
		inW.Write(init)
		inW.Write(bytes.Join([][]byte{limits, other, limits, stat}, nil))
		inW.Close()
	}()
	got := make([]byte, len(init))
	if _, err := io.ReadFull(g, got); err != nil || !bytes.Equal(got, init) {
		t.Fatalf("INIT read as %x, %v", got, err)
	}
	g.Write(sftpwire.Frame(sftpwire.Packet(sftpwire.FxpVersion, 3)))
	want := append(append([]byte(nil), other...), stat...)
	got = make([]byte, len(want))
	if _, err := io.ReadFull(g, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("pkg/sftp read %x, %v; want %x", got, err, want)
	}
	// pkg/sftp's answers, so that the guard's cap on requests in flight
	// lets it read on to the end.
	status6 := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStatus, 6, uint32(8), "", ""))
	status7 := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStatus, 7, uint32(2), "", ""))
	g.Write(status6)
	g.Write(status7)
	if rest, err := io.ReadAll(g); err != nil || len(rest) != 0 {
		t.Fatalf("pkg/sftp read %x more, %v; want the end", rest, err)
	}
	reply := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpExtendedReply, 5, uint64(256<<10), uint64(255<<10), uint64(255<<10), uint64(0)))
	version := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpVersion, 3, "limits@openssh.com", "1"))
	if want := bytes.Join([][]byte{version, reply, reply, status6, status7}, nil); !bytes.Equal(conn.out.Bytes(), want) {
		t.Errorf("client got %x, want %x", conn.out.Bytes(), want)
	}
	if g.answered != 3 {
		t.Errorf("counted %d answers of pkg/sftp, want 3", g.answered)
	}
}

// pkg/sftp gets at most sftpInFlight requests it has not answered; the
// next waits for an answer.
func TestSFTPGuardBoundsRequestsInFlight(t *testing.T) {
	stat := sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStat, 1, "f"))
	conn := &fakeChannel{in: bytes.NewReader(bytes.Repeat(stat, sftpInFlight+1))}
	g := newSFTPGuard(conn)
	g.Write(sftpwire.Frame(sftpwire.Packet(sftpwire.FxpVersion, 3))) // answers a request not counted here
	g.answered = 0
	next := readPastInFlight(t, g, len(stat))
	select {
	case <-next:
		t.Fatalf("request %d went in with none answered", sftpInFlight+1)
	case <-time.After(100 * time.Millisecond): // a wait for something that must not happen
	}
	g.Write(sftpwire.Frame(sftpwire.Packet(sftpwire.FxpStatus, 1, 0, "", "")))
	select {
	case err := <-next:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request was held after an answer")
	}
}

// readPastInFlight reads sftpInFlight frames of size n through g, as
// pkg/sftp would, then starts reading one more: its end comes on the
// channel returned.
func readPastInFlight(t *testing.T, g *sftpGuard, n int) <-chan error {
	t.Helper()
	for range sftpInFlight {
		if _, err := io.ReadFull(g, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	next := make(chan error)
	go func() {
		_, err := io.ReadFull(g, make([]byte, n))
		next <- err
	}()
	return next
}
