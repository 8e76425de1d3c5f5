// Package proxied lets a server sit behind TCP load balancers that speak
// the PROXY protocol v2 (HAProxy's send-proxy-v2): a connection from a
// trusted balancer may start with a header naming the client, and its
// RemoteAddr is then the client's, so that every per-address limit and
// log line sees the client instead of the balancer. A connection from
// anywhere else that starts with a PROXY header is refused; without one
// it is served as it would be without this package.
//
// Headers are parsed by github.com/pires/go-proxyproto; who may send
// one, which versions count and when the header is read are decided here.
package proxied

import (
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// DefaultHeaderTimeout bounds the wait for a balancer's header when
// Config.HeaderTimeout is 0. A balancer sends it as soon as it connects.
const DefaultHeaderTimeout = 10 * time.Second

// Config says whose headers to believe.
type Config struct {
	// From are the balancers' addresses: a connection from inside one of
	// them may start with a PROXY v2 header.
	From []netip.Prefix
	// HeaderTimeout bounds the wait for a balancer's header; 0:
	// DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	Logger        *slog.Logger
}

// Listener wraps a net.Listener. Accept never reads: a connection's
// header is read on its first Read, Write or RemoteAddr, in the goroutine
// that serves it, so a client that connects and stays silent holds up
// nobody else.
type Listener struct {
	net.Listener
	cfg Config
}

// Listen wraps ln.
func Listen(ln net.Listener, cfg Config) *Listener {
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, cfg: cfg}
}

// Accept returns the next connection: from a balancer, one whose header
// is read when it is first used; from elsewhere, one that refuses a
// header.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.trusted(c.RemoteAddr()) {
		return &balancerConn{Conn: c, timeout: l.cfg.HeaderTimeout, log: l.cfg.Logger}, nil
	}
	return &directConn{Conn: c, log: l.cfg.Logger}, nil
}

// trusted reports whether addr, a socket's peer, is a balancer's.
func (l *Listener) trusted(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range l.cfg.From {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
