package sshd

import (
	"encoding/binary"
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

	mu       sync.Mutex
	cond     *sync.Cond
	out      frameCounter // answers written
	answered int64
	closed   bool
}

func newSFTPGuard(rwc io.ReadWriteCloser) *sftpGuard {
	g := &sftpGuard{rwc: rwc}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Read passes the client's bytes on, never past the end of a frame, and
// holds the frame after an open until the open is answered.
func (g *sftpGuard) Read(p []byte) (int, error) {
	if g.in.inFrame() == 0 && g.wait > 0 {
		g.mu.Lock()
		for g.answered < g.wait && !g.closed {
			g.cond.Wait()
		}
		closed := g.closed
		g.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		g.wait = 0
	}
	if rest := g.in.rest(); int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := g.rwc.Read(p)
	if done, typ := g.in.scan(p[:n]); done > 0 && (typ == sftpOpen || typ == sftpOpendir) {
		g.wait = g.in.frames // this open is the last frame read
	}
	return n, err
}

// Write passes pkg/sftp's answers on and counts them.
func (g *sftpGuard) Write(p []byte) (int, error) {
	n, err := g.rwc.Write(p)
	g.mu.Lock()
	if done, _ := g.out.scan(p[:n]); done > 0 {
		g.answered += int64(done)
		g.cond.Broadcast()
	}
	g.mu.Unlock()
	return n, err
}

func (g *sftpGuard) Close() error {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	return g.rwc.Close()
}

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
