package sshd

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// sftpGuard stands between an SFTP session's channel and pkg/sftp's request
// server, against a crash in pkg/sftp (v1.13.12) that FuzzSFTP found. An
// open registers its handle before it sets the request's method, and reads
// and writes are served on other goroutines than opens: a READ or WRITE
// sent right behind its OPEN, on the handle number the client guessed,
// reads the method string half-written and dereferences a nil pointer in
// Request.call, killing the process. A real client waits for the handle
// before it uses it; the guard makes every client do so: after an OPEN or
// OPENDIR it gives pkg/sftp nothing more until pkg/sftp has answered it.
//
// pkg/sftp answers every request it reads, in the order read, or ends the
// session, so the guard counts frames both ways rather than matching
// request ids (which the client chooses, and may repeat).
type sftpGuard struct {
	rwc io.ReadWriteCloser

	in   frameCounter // pkg/sftp reads on one goroutine only
	wait int64        // answers needed before the next frame goes in
	// pending holds bytes read from the client ahead of pkg/sftp
	// (sftp_limits.go), pendingErr how the client's stream ended after them.
	pending    []byte
	pendingErr error
	head       [5]byte // the frame start pending holds, mostly

	mu       sync.Mutex
	cond     *sync.Cond
	answered int64
	closed   bool

	// wmu orders writes: pkg/sftp's, which may take two calls per frame,
	// and the guard's own answers, which go between frames only.
	wmu     sync.Mutex
	wcond   *sync.Cond
	out     frameCounter // answers written
	version []byte       // pkg/sftp's VERSION, gathered until whole
	wclosed bool
}

func newSFTPGuard(rwc io.ReadWriteCloser) *sftpGuard {
	g := &sftpGuard{rwc: rwc}
	g.cond = sync.NewCond(&g.mu)
	g.wcond = sync.NewCond(&g.wmu)
	return g
}

// Read passes the client's bytes on, never past the end of a frame, and
// holds the frame after an open until the open is answered.
func (g *sftpGuard) Read(p []byte) (int, error) {
	if g.in.inFrame() == 0 && len(g.pending) == 0 && g.pendingErr == nil {
		// Answers needed first: the open's, and enough that at most
		// sftpInFlight requests are in pkg/sftp at once.
		if need := max(g.wait, g.in.frames-sftpInFlight+1); need > 0 {
			g.mu.Lock()
			for g.answered < need && !g.closed {
				g.cond.Wait()
			}
			closed := g.closed
			g.mu.Unlock()
			if closed {
				return 0, io.EOF
			}
			g.wait = 0
		}
		if err := g.peek(); err != nil {
			g.pendingErr = err
		}
	}
	if rest := g.in.rest(); int64(len(p)) > rest {
		p = p[:rest]
	}
	var n int
	var err error
	switch {
	case len(g.pending) > 0:
		n = copy(p, g.pending)
		g.pending = g.pending[n:]
	case g.pendingErr != nil:
		if errors.Is(g.pendingErr, io.EOF) && g.in.inFrame() > 0 {
			g.pendingErr = io.ErrUnexpectedEOF
		}
		return 0, g.pendingErr
	default:
		n, err = g.rwc.Read(p)
	}
	if done, typ := g.in.scan(p[:n]); done > 0 && (typ == sftpOpen || typ == sftpOpendir) {
		g.wait = g.in.frames // this open is the last frame read
	}
	return n, err
}

// Write passes pkg/sftp's answers on and counts them. Its VERSION goes out
// whole, with the limits extension added.
func (g *sftpGuard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	var n int
	var err error
	if g.out.frames == 0 {
		n, err = g.writeVersion(p)
	} else {
		n, err = g.rwc.Write(p)
		g.wrote(p[:n])
	}
	if err != nil {
		g.lost()
	}
	return n, err
}

// lost ends a read held for answers once an answer cannot be written: the
// channel is gone (a client that dropped its connection with requests in
// flight), so the answers the read waits for will never be counted, and
// pkg/sftp, its reader held, would never end the session, its upload or
// its place in the session counts. A reply waiting for the end of a frame
// that will not be finished ends too. Called with wmu held.
func (g *sftpGuard) lost() {
	g.wclosed = true
	g.wcond.Broadcast()
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// writeVersion gathers the first frame pkg/sftp writes, its VERSION, and
// writes it with the limits extension once whole.
func (g *sftpGuard) writeVersion(p []byte) (int, error) {
	done, _ := g.out.scan(p)
	if done == 0 {
		g.version = append(g.version, p...)
		return len(p), nil
	}
	// The frame ends in p: after it, at most more frames, passed on.
	frameLen := 4 + int(binary.BigEndian.Uint32(append(g.version, p...)[:4]))
	head := frameLen - len(g.version)
	frame := withLimitsExtension(append(g.version, p[:head]...))
	g.version = nil
	if _, err := g.rwc.Write(frame); err != nil {
		return 0, err
	}
	n, err := g.rwc.Write(p[head:])
	g.count(done)
	return head + n, err
}

// wrote counts the frames p completed.
func (g *sftpGuard) wrote(p []byte) {
	done, _ := g.out.scan(p)
	g.count(done)
}

func (g *sftpGuard) count(done int) {
	if g.out.inFrame() == 0 {
		g.wcond.Broadcast()
	}
	if done == 0 {
		return
	}
	g.mu.Lock()
	g.answered += int64(done)
	g.cond.Broadcast()
	g.mu.Unlock()
}

// reply writes one of the guard's own answers, between pkg/sftp's frames;
// pkg/sftp's count of answers does not include it.
func (g *sftpGuard) reply(frame []byte) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	for g.out.inFrame() != 0 && !g.wclosed {
		g.wcond.Wait()
	}
	if g.wclosed {
		return io.ErrClosedPipe
	}
	_, err := g.rwc.Write(frame)
	if err != nil {
		g.lost()
	}
	return err
}

func (g *sftpGuard) Close() error {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	err := g.rwc.Close() // ends a write blocked in the channel
	g.wmu.Lock()
	g.wclosed = true
	g.wcond.Broadcast()
	g.wmu.Unlock()
	return err
}

// sftpInFlight is how many requests pkg/sftp holds at most, read and not
// yet answered; the client's next waits in the channel, whose window then
// holds the client back. pkg/sftp would otherwise queue about 25 in its
// channels and workers, each up to sftpMaxPacket: 6 MiB per session. It
// also bounds the pages pkg/sftp's allocator keeps for the session's life
// (newSFTPServer): one per request, one more per read's data, one for the
// request being received; 2 in flight keep 5 pages (1.3 MiB), 4 kept 9.
// With 255 KiB requests, 1, 2, 4 and 8 moved a 1 GiB upload or download
// equally fast on this project's machine; fewer also means fewer writes
// that reach files.Upload out of order.
const sftpInFlight = 2

// The request types after which the guard waits.
const (
	sftpOpen    = 3
	sftpOpendir = 11
)

// frameCounter follows the SFTP framing of a byte stream (a uint32
// length, then that many bytes, the first being the type).
type frameCounter struct {
	head   [5]byte // the current frame's length and type, as far as seen
	seen   int64   // bytes of the current frame seen
	frames int64   // frames seen whole
}

// inFrame is how many bytes of the current frame were seen: 0 at a
// boundary.
func (c *frameCounter) inFrame() int64 { return c.seen }

// rest is how many bytes may be read without crossing into the next
// frame: the rest of the length prefix, then the rest of the frame.
func (c *frameCounter) rest() int64 {
	if c.seen < 4 {
		return 4 - c.seen
	}
	return 4 + int64(binary.BigEndian.Uint32(c.head[:4])) - c.seen
}

// scan follows p through the stream. It returns how many frames p
// completed and the type of the last one (0 if it had none).
func (c *frameCounter) scan(p []byte) (done int, typ byte) {
	for {
		if c.seen < 4 {
			k := copy(c.head[c.seen:4], p)
			c.seen += int64(k)
			p = p[k:]
			if c.seen < 4 {
				return done, typ
			}
		}
		end := 4 + int64(binary.BigEndian.Uint32(c.head[:4]))
		if c.seen == 4 && end > 4 && len(p) > 0 {
			c.head[4] = p[0]
		}
		skip := min(int64(len(p)), end-c.seen)
		c.seen += skip
		p = p[skip:]
		if c.seen < end {
			return done, typ
		}
		// The frame is complete; a zero length has no type.
		typ = 0
		if end > 4 {
			typ = c.head[4]
		}
		done++
		c.frames++
		c.seen = 0
		if len(p) == 0 {
			return done, typ
		}
	}
}
