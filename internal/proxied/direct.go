package proxied

import (
	"bytes"
	"errors"
	"log/slog"
	"net"

	pp "github.com/pires/go-proxyproto"
)

var errUntrusted = errors.New("PROXY header from an address that is not a trusted balancer")

// directConn is a connection from anywhere but a balancer. It is served
// as is, except that one starting with a PROXY header (v1 or v2) is
// closed at its first Read: only a balancer may name another client.
// Nothing waits for the client before that Read (RemoteAddr is the
// socket's at once), so the server's own limits and deadlines apply.
type directConn struct {
	net.Conn
	log     *slog.Logger
	checked bool   // the first bytes are known not to be a header
	held    []byte // bytes read while checking, not yet returned
}

func (c *directConn) Read(p []byte) (int, error) {
	if !c.checked {
		if err := c.check(); err != nil {
			return 0, err
		}
	}
	if len(c.held) > 0 {
		n := copy(p, c.held)
		c.held = c.held[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// check reads until the first bytes tell a header from anything else.
// It reads at most a v2 signature's length (12 bytes): an SSH client
// decides at its first byte.
func (c *directConn) check() error {
	var buf [sigLen]byte
	n := 0
	for {
		m, err := c.Conn.Read(buf[n:])
		n += m
		switch sniff(buf[:n]) {
		case isHeader:
			c.log.Info("connection refused: PROXY header from an address that is not a trusted balancer", "addr", c.Conn.RemoteAddr().String())
			c.Conn.Close()
			return errUntrusted
		case notHeader:
			c.checked, c.held = true, bytes.Clone(buf[:n])
			return nil
		}
		if err != nil {
			// Undecided bytes before an end or error are the stream's:
			// hand them on; the error comes again on the next Read.
			c.checked, c.held = n > 0, bytes.Clone(buf[:n])
			if n > 0 {
				return nil
			}
			return err
		}
	}
}

type verdict int

const (
	undecided verdict = iota
	isHeader
	notHeader
)

const sigLen = 12 // of a v2 signature; v1's ("PROXY") is 5

// sniff says whether b, the first bytes of a stream, start a PROXY header.
func sniff(b []byte) verdict {
	for _, sig := range [][]byte{pp.SIGV1, pp.SIGV2} {
		k := min(len(b), len(sig))
		if bytes.Equal(b[:k], sig[:k]) {
			if k == len(sig) {
				return isHeader
			}
			return undecided
		}
	}
	return notHeader
}
