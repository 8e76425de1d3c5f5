package app

import (
	"net"
	"strings"

	"github.com/sshelf/sshelf/internal/proxied"
)

// behindBalancer wraps ln so that a connection from one of the
// ProxyProtocolFrom balancers is known by the client address of its PROXY
// v2 header to every limit, throttle and log line. Without balancers ln
// is served as it is.
func (a *App) behindBalancer(ln net.Listener) net.Listener {
	if len(a.opt.ProxyProtocolFrom) == 0 {
		return ln
	}
	// The header comes first; it need not wait longer than the whole login.
	timeout := proxied.DefaultHeaderTimeout
	if a.opt.AuthTimeout > 0 {
		timeout = min(timeout, a.opt.AuthTimeout)
	}
	from := make([]string, len(a.opt.ProxyProtocolFrom))
	for i, p := range a.opt.ProxyProtocolFrom {
		from[i] = p.String()
	}
	a.opt.Logger.Info("PROXY protocol v2 accepted", "from", strings.Join(from, ","))
	return proxied.Listen(ln, proxied.Config{From: a.opt.ProxyProtocolFrom, HeaderTimeout: timeout, Logger: a.opt.Logger})
}
