package proxied

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	pp "github.com/pires/go-proxyproto"
)

// headerBuffer is the read buffer of a balancer's connection until the
// header is read and what came after it is handed on. A v2 header without
// TLVs is 28 (IPv4) or 52 (IPv6) bytes; larger ones are read in parts.
const headerBuffer = 256

var errV1 = errors.New("PROXY protocol v1 header: only v2 is accepted")

// balancerConn is a connection from a trusted balancer. Its first Read,
// Write, RemoteAddr or deadline call reads the header (within timeout):
// PROXY makes the header's source the RemoteAddr; LOCAL (the balancer's
// own health check) or no header at all keeps the balancer's. A header
// that is malformed, v1, or late closes the connection.
type balancerConn struct {
	net.Conn
	timeout time.Duration
	log     *slog.Logger

	once   sync.Once
	err    error         // why the header closed the connection
	remote net.Addr      // the client's, or the balancer's
	br     *bufio.Reader // holds what was read past the header; nil once drained
}

// header reads the header once; later calls return what the first found.
func (c *balancerConn) header() error {
	c.once.Do(func() {
		c.remote = c.Conn.RemoteAddr()
		client, err := c.readHeader()
		if err != nil {
			c.err = fmt.Errorf("PROXY header from %s: %w", c.remote, err)
			c.Conn.Close()
			if !errors.Is(err, net.ErrClosed) { // closed here: nothing to say
				c.log.Warn("connection closed: bad PROXY header", "balancer", c.remote.String(), "err", err.Error())
			}
			return
		}
		if client != nil {
			c.remote = client
		}
	})
	return c.err
}

func (c *balancerConn) readHeader() (net.Addr, error) {
	c.br = bufio.NewReaderSize(c.Conn, headerBuffer)
	// No deadline is set before the first header call (every setter waits
	// for it), so clearing it afterwards loses none.
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	client, err := parseHeader(c.br)
	if derr := c.Conn.SetReadDeadline(time.Time{}); err == nil && derr != nil {
		err = derr
	}
	return client, err
}

// parseHeader reads a PROXY header from br, if one starts it, and returns
// the client's address: nil for no header or a LOCAL one.
func parseHeader(br *bufio.Reader) (net.Addr, error) {
	h, err := pp.Read(br)
	switch {
	case errors.Is(err, pp.ErrNoProxyProtocol):
		return nil, nil
	case err != nil:
		return nil, err
	case h.Version != 2:
		return nil, errV1
	case h.Command.IsLocal():
		return nil, nil
	}
	src, _, ok := h.TCPAddrs()
	if !ok || src == nil || src.IP == nil {
		return nil, fmt.Errorf("PROXY header for a client that is not TCP (address family and protocol %#x)", byte(h.TransportProtocol))
	}
	return src, nil
}

func (c *balancerConn) Read(p []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	if c.br != nil {
		if c.br.Buffered() > 0 {
			return c.br.Read(p) // only what is buffered: no read on the socket
		}
		c.br = nil
	}
	return c.Conn.Read(p)
}

func (c *balancerConn) Write(p []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// RemoteAddr is the client's address from the header, or the balancer's.
func (c *balancerConn) RemoteAddr() net.Addr {
	c.header()
	return c.remote
}

func (c *balancerConn) SetDeadline(t time.Time) error {
	c.header()
	return c.Conn.SetDeadline(t)
}

func (c *balancerConn) SetReadDeadline(t time.Time) error {
	c.header()
	return c.Conn.SetReadDeadline(t)
}

func (c *balancerConn) SetWriteDeadline(t time.Time) error {
	c.header()
	return c.Conn.SetWriteDeadline(t)
}
