package proxied

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pp "github.com/pires/go-proxyproto"
)

// bound is how long any one network step of a test may take before the
// test fails instead of hanging; no test asserts on time.
const bound = 30 * time.Second

const (
	clientHello = "SSH-2.0-client\r\n"
	serverHello = "SSH-2.0-server\r\n"
)

// logBuffer collects the log lines of a listener.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listen starts a Listener on 127.0.0.1 trusting from.
func listen(t *testing.T, from string, timeout time.Duration) (*Listener, *logBuffer) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prefixes, err := ParseSources(from)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	ln := Listen(inner, Config{From: prefixes, HeaderTimeout: timeout, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(func() { ln.Close() })
	return ln, logs
}

// dialFrom connects to ln from the loopback address src.
func dialFrom(t *testing.T, ln net.Listener, src string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: bound}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(bound))
	return c.(*net.TCPConn)
}

// accept takes the next connection from ln.
func accept(t *testing.T, ln *Listener) net.Conn {
	t.Helper()
	ln.Listener.(*net.TCPListener).SetDeadline(time.Now().Add(bound))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func header(t *testing.T, version byte, src, dst net.Addr) []byte {
	t.Helper()
	b, err := pp.HeaderProxyFromAddrs(version, src, dst).Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func localHeader(t *testing.T) []byte {
	t.Helper()
	b, err := (&pp.Header{Version: 2, Command: pp.LOCAL, TransportProtocol: pp.UNSPEC}).Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	client4 = &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 4567}
	client6 = &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 2222}
	server4 = &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 22}
	server6 = &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 22}
)

// readToEnd reads c until its end; a reset is an end too (a socket closed
// with bytes unread sends one).
func readToEnd(t *testing.T, c net.Conn) []byte {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading to the end: %v", err)
	}
	return b
}

// TestBalancerHeader: from a trusted balancer, a PROXY v2 header makes its
// source the RemoteAddr; LOCAL or no header keeps the balancer's; what
// follows the header arrives untouched, both ways.
func TestBalancerHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header func(t *testing.T) []byte
		want   string // "": the balancer's address
	}{
		{"v2 TCP4", func(t *testing.T) []byte { return header(t, 2, client4, server4) }, "10.1.2.3:4567"},
		{"v2 TCP6", func(t *testing.T) []byte { return header(t, 2, client6, server6) }, "[2001:db8::7]:2222"},
		{"v2 LOCAL", localHeader, ""},
		{"no header", func(*testing.T) []byte { return nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, _ := listen(t, "127.0.0.2", 0)
			cl := dialFrom(t, ln, "127.0.0.2")
			if _, err := cl.Write(append(tc.header(t), clientHello...)); err != nil {
				t.Fatal(err)
			}
			cl.CloseWrite()
			srv := accept(t, ln)
			want := tc.want
			if want == "" {
				want = cl.LocalAddr().String()
			}
			if got := srv.RemoteAddr().String(); got != want {
				t.Errorf("RemoteAddr %s, want %s", got, want)
			}
			if _, err := io.WriteString(srv, serverHello); err != nil {
				t.Fatal(err)
			}
			srv.SetReadDeadline(time.Now().Add(bound))
			if got := readToEnd(t, srv); string(got) != clientHello {
				t.Errorf("server read %q, want %q", got, clientHello)
			}
			srv.Close()
			if got := readToEnd(t, cl); string(got) != serverHello {
				t.Errorf("client read %q, want %q", got, serverHello)
			}
		})
	}
}

// TestBalancerBadHeader: a header from a balancer that is v1, malformed,
// truncated, not TCP or late closes that connection with a log line; the
// listener serves the next one.
func TestBalancerBadHeader(t *testing.T) {
	t.Parallel()
	good := func(t *testing.T) []byte { return header(t, 2, client4, server4) }
	for _, tc := range []struct {
		name    string
		send    func(t *testing.T) []byte
		timeout time.Duration
		silent  bool // send nothing, close nothing: the header timeout ends it
	}{
		{name: "v1", send: func(t *testing.T) []byte { return header(t, 1, client4, server4) }},
		{name: "truncated v2", send: func(t *testing.T) []byte { return good(t)[:20] }},
		{name: "signature only", send: func(*testing.T) []byte { return bytes.Clone(pp.SIGV2) }},
		{name: "bad command", send: func(t *testing.T) []byte { b := good(t); b[12] = 0x2f; return b }},
		{name: "bad family", send: func(t *testing.T) []byte { b := good(t); b[13] = 0x13; return b }},
		{name: "length past the end", send: func(t *testing.T) []byte { b := good(t); b[14], b[15] = 0xff, 0xff; return b }},
		{name: "UDP", send: func(t *testing.T) []byte {
			return header(t, 2, &net.UDPAddr{IP: client4.IP, Port: 53}, &net.UDPAddr{IP: server4.IP, Port: 53})
		}},
		{name: "silent", silent: true, timeout: 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, logs := listen(t, "127.0.0.0/8", tc.timeout)
			cl := dialFrom(t, ln, "127.0.0.2")
			if !tc.silent {
				// Nothing after it: a truncated header's missing bytes
				// would be taken from what follows.
				if _, err := cl.Write(tc.send(t)); err != nil {
					t.Fatal(err)
				}
				cl.CloseWrite()
			}
			srv := accept(t, ln)
			if got, want := srv.RemoteAddr().String(), cl.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr %s, want the balancer's %s", got, want)
			}
			if n, err := srv.Read(make([]byte, 64)); err == nil || n != 0 {
				t.Errorf("Read: %d bytes, %v; want an error", n, err)
			}
			if got := readToEnd(t, cl); len(got) != 0 {
				t.Errorf("client read %q, want the connection closed", got)
			}
			if !strings.Contains(logs.String(), "bad PROXY header") {
				t.Errorf("no log line; logs:\n%s", logs)
			}

			// The next connection is served.
			next := dialFrom(t, ln, "127.0.0.3")
			next.Write(append(good(t), clientHello...))
			if got := accept(t, ln).RemoteAddr().String(); got != client4.String() {
				t.Errorf("next connection: RemoteAddr %s, want %s", got, client4)
			}
		})
	}
}

// TestUntrustedHeaderRefused: a connection from outside the balancers that
// starts with a PROXY header, v1 or v2, whole or in parts, is closed and
// logged; its RemoteAddr stays the socket's.
func TestUntrustedHeaderRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		writes func(t *testing.T) [][]byte
	}{
		{"v2", func(t *testing.T) [][]byte { return [][]byte{header(t, 2, client4, server4)} }},
		{"v1", func(t *testing.T) [][]byte { return [][]byte{header(t, 1, client4, server4)} }},
		{"v2 in parts", func(t *testing.T) [][]byte {
			h := header(t, 2, client4, server4)
			return [][]byte{h[:3], h[3:7], h[7:]}
		}},
		{"v2 LOCAL", func(t *testing.T) [][]byte { return [][]byte{localHeader(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, logs := listen(t, "10.0.0.0/8,::1", 0)
			cl := dialFrom(t, ln, "127.0.0.2")
			srv := accept(t, ln)
			if got, want := srv.RemoteAddr().String(), cl.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr %s, want %s", got, want)
			}
			read := make(chan error, 1)
			go func() {
				_, err := srv.Read(make([]byte, 64))
				read <- err
			}()
			for _, w := range tc.writes(t) {
				if _, err := cl.Write(w); err != nil {
					break // closed by the server before the last part
				}
			}
			if err := <-read; !errors.Is(err, errUntrusted) {
				t.Errorf("Read: %v, want %v", err, errUntrusted)
			}
			if got := readToEnd(t, cl); len(got) != 0 {
				t.Errorf("client read %q, want the connection closed", got)
			}
			if l := logs.String(); !strings.Contains(l, "connection refused") || !strings.Contains(l, "addr="+cl.LocalAddr().String()) {
				t.Errorf("no refusal logged with the address; logs:\n%s", l)
			}
		})
	}
}

// TestUntrustedPlainUntouched: a connection from outside the balancers
// without a header is served byte for byte, even when it starts like one,
// and the server may speak first.
func TestUntrustedPlainUntouched(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, payload string }{
		{"ssh", clientHello},
		{"like v2 at first", "\r\n\r\nnot a header"},
		{"like v1 at first", "PROX!"},
		{"one byte", "P"},
		{"nothing", ""},
		{"v2 signature but its last byte", string(pp.SIGV2[:11])},
	} {
		payload := tc.payload
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, logs := listen(t, "127.0.0.3", 0)
			cl := dialFrom(t, ln, "127.0.0.2")
			srv := accept(t, ln)
			if got, want := srv.RemoteAddr().String(), cl.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr %s, want %s", got, want)
			}
			if _, err := io.WriteString(srv, serverHello); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, len(serverHello))
			if _, err := io.ReadFull(cl, buf); err != nil || string(buf) != serverHello {
				t.Fatalf("client read %q, %v", buf, err)
			}
			io.WriteString(cl, payload)
			cl.CloseWrite()
			srv.SetReadDeadline(time.Now().Add(bound))
			if got := readToEnd(t, srv); string(got) != payload {
				t.Errorf("server read %q, want %q", got, payload)
			}
			if logs.String() != "" {
				t.Errorf("logged:\n%s", logs)
			}
		})
	}
}

// TestSilentConnectionDoesNotBlockAccept: a balancer's connection that
// sends nothing holds up only whoever asks for its address; the next
// connections are accepted and served, and an untrusted silent one gives
// its address at once.
func TestSilentConnectionDoesNotBlockAccept(t *testing.T) {
	t.Parallel()
	ln, _ := listen(t, "127.0.0.2", 0) // the default timeout: it must not matter
	silent := dialFrom(t, ln, "127.0.0.2")
	first := accept(t, ln)
	addr := make(chan string, 1)
	go func() { addr <- first.RemoteAddr().String() }()

	next := dialFrom(t, ln, "127.0.0.2")
	next.Write(append(header(t, 2, client4, server4), clientHello...))
	if got := accept(t, ln).RemoteAddr().String(); got != client4.String() {
		t.Errorf("next connection: RemoteAddr %s, want %s", got, client4)
	}
	untrusted := dialFrom(t, ln, "127.0.0.3")
	if got := accept(t, ln).RemoteAddr().String(); got != untrusted.LocalAddr().String() {
		t.Errorf("untrusted silent connection: RemoteAddr %s, want %s", got, untrusted.LocalAddr())
	}

	select {
	case a := <-addr:
		t.Fatalf("the silent connection's RemoteAddr returned %s before it sent anything", a)
	default:
	}
	silent.Close()
	select {
	case a := <-addr:
		if a != silent.LocalAddr().String() {
			t.Errorf("silent connection: RemoteAddr %s, want the balancer's %s", a, silent.LocalAddr())
		}
	case <-time.After(bound):
		t.Fatal("the silent connection's RemoteAddr did not return after it closed")
	}
}

func TestParseSources(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the prefixes joined by ","; "error" for an error
	}{
		{"", ""},
		{"  ", ""},
		{"10.0.0.5", "10.0.0.5/32"},
		{"10.0.0.5, 10.0.1.0/24", "10.0.0.5/32,10.0.1.0/24"},
		{"10.0.1.7/24", "10.0.1.0/24"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:db8::/32,::1", "2001:db8::/32,::1/128"},
		{"::ffff:10.0.0.5", "10.0.0.5/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"10.0.0.300", "error"},
		{"10.0.0.0/33", "error"},
		{"10.0.0.5,", "error"},
		{"example.com", "error"},
		{"fe80::1%eth0", "error"},
	} {
		got, err := ParseSources(tc.in)
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		switch {
		case tc.want == "error" && err == nil:
			t.Errorf("ParseSources(%q) = %v, want an error", tc.in, s)
		case tc.want == "error":
			if !strings.HasPrefix(err.Error(), "want addresses or CIDR ranges") {
				t.Errorf("ParseSources(%q): error %q does not say the accepted form", tc.in, err)
			}
		case err != nil || strings.Join(s, ",") != tc.want:
			t.Errorf("ParseSources(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

// TestTrusted: a socket's peer is matched unmapped, so an IPv4 client of a
// dual-stack listener matches an IPv4 range; only TCP peers are trusted.
func TestTrusted(t *testing.T) {
	prefixes, err := ParseSources("10.0.0.0/8,2001:db8::5")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(nil, Config{From: prefixes})
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.9.8.7").To4(), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("10.9.8.7").To16(), Port: 1}, true}, // ::ffff:10.9.8.7
		{&net.TCPAddr{IP: net.ParseIP("11.0.0.1"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::5"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::6"), Port: 1}, false},
		{&net.TCPAddr{}, false},
		{&net.UnixAddr{Name: "/run/sshelf.sock", Net: "unix"}, false},
	} {
		if got := l.trusted(tc.addr); got != tc.want {
			t.Errorf("trusted(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
