package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	pp "github.com/pires/go-proxyproto"

	"github.com/sshelf/sshelf/internal/tiedproc"
)

const haproxyBin = "/usr/sbin/haproxy"

// startHAProxy runs HAProxy in the foreground in front of backends (in turn): a TCP
// frontend on a free loopback port whose connections reach backend with
// a PROXY v2 header (send-proxy-v2). It returns the frontend's port.
func startHAProxy(t *testing.T, backends ...string) string {
	t.Helper()
	if _, err := os.Stat(haproxyBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("HAProxy is needed (Debian package haproxy): %v", err)
		}
		t.Skipf("HAProxy not installed (Debian package haproxy): %v", err)
	}
	port := fmt.Sprint(freePort(t))
	// Each connection is logged to stdout as it ends, with its termination
	// state (who closed it, and why), shown when a test fails.
	cfg := fmt.Sprintf(`global
	maxconn 100
	log stdout format raw local0 info
defaults
	log global
	mode tcp
	option tcplog
	timeout connect 10s
	timeout client 2m
	timeout server 2m
frontend ssh
	bind 127.0.0.1:%s
	default_backend sshelf
backend sshelf
	balance roundrobin
%s`, port, servers(backends))
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxyBin, "-c", "-q", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	var logs bytes.Buffer // read once Wait has returned
	cmd := exec.Command(haproxyBin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Killed with the test binary even if it never gets to clean up.
	if err := tiedproc.Start(cmd); err != nil {
		t.Fatalf("starting haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// A balancer that died during the test (its connections cut
		// without a log line) says so.
		select {
		case <-exited:
			t.Errorf("haproxy exited before the test ended: %v", cmd.ProcessState)
		default:
		}
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", tail(logs.String(), 40))
		}
	})
	up := pollUntil(startTimeout, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	select {
	case <-exited:
		t.Fatalf("haproxy exited: %v", cmd.ProcessState)
	default:
	}
	if !up {
		t.Fatalf("haproxy did not listen on 127.0.0.1:%s within %v", port, startTimeout)
	}
	return port
}

// servers are HAProxy's server lines for backends, in turn.
func servers(backends []string) string {
	var b strings.Builder
	for i, addr := range backends {
		fmt.Fprintf(&b, "\tserver s%d %s send-proxy-v2\n", i+1, addr)
	}
	return b.String()
}

// Behind HAProxy (send-proxy-v2), with --proxy-protocol-from naming it,
// the server knows each client by its own address: the audit log shows
// it, and wrong passwords lock out the guessing client, not the balancer
// and everyone behind it. A PROXY header from anyone else is refused,
// while their plain SSH works as before; a silent connection from the
// balancer holds up no one.
func TestBehindHAProxy(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--proxy-protocol-from", "127.0.0.1",
		"--login-max-failures", "3", "--login-delay", "1ms")
	lb := startHAProxy(t, net.JoinHostPort(srv.host, srv.port))

	// From the balancer's address, connected and silent all along.
	silent, err := net.Dial("tcp", net.JoinHostPort(srv.host, srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	const pw = "alice-pw"
	r := srv.ssh(t, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2", port: lb,
		stdin: strings.NewReader("through the balancer")}, "put", "lb.txt")
	mustOK(t, r, "put through HAProxy from 127.0.0.2")
	var addrs []string
	for _, m := range srv.jsonLines() {
		if m["msg"] == "op" && m["command"] == "put" {
			addrs = append(addrs, fmt.Sprint(m["addr"]))
		}
	}
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.2:") {
		t.Errorf("audit lines of the put have addr %q, want one from 127.0.0.2 (the client, not the balancer)", addrs)
	}

	wrong := func(from string, i int) result {
		return loginAs(t, srv, sshOpts{user: "alice", pw: fmt.Sprint("guess-", i), bind: from, port: lb,
			methods: "password", extra: []string{"-o", "KbdInteractiveAuthentication=no"}})
	}
	for i := range 3 {
		r := wrong("127.0.0.3", i)
		wantRefused(t, r, fmt.Sprintf("wrong password %d from 127.0.0.3", i+1))
		if strings.Contains(string(r.stderr), "too many") {
			t.Fatalf("wrong password %d already refused by the limit: %q", i+1, r.stderr)
		}
	}
	wantRefused(t, wrong("127.0.0.3", 3), "a 4th wrong password from 127.0.0.3", fmt.Sprintf(addrLockedText, "127.0.0.3"))
	wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2", port: lb}),
		"alice", "alice through HAProxy from 127.0.0.2 while 127.0.0.3 is locked out")

	// Straight to the server from 127.0.0.2, which is not the balancer.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: sshTimeout}
	c, err := d.Dial("tcp", net.JoinHostPort(srv.host, srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	header, err := pp.HeaderProxyFromAddrs(2, &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 4567}, c.RemoteAddr()).Format()
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(sshTimeout))
	c.Write(append(header, "SSH-2.0-OpenSSH_9.2\r\n"...))
	got, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("a PROXY header from 127.0.0.2: want the connection closed, got %v after %q", err, got)
	}
	if s := string(got); s != "" && s != "SSH-2.0-sshelf\r\n" {
		t.Errorf("a PROXY header from 127.0.0.2: the server answered %q, want at most its version line", s)
	}
	refusal := func() bool {
		for _, m := range srv.jsonLines() {
			msg, _ := m["msg"].(string)
			addr, _ := m["addr"].(string)
			if strings.HasPrefix(msg, "connection refused: PROXY header") && strings.HasPrefix(addr, "127.0.0.2:") {
				return true
			}
		}
		return false
	}
	if !pollUntil(10*time.Second, refusal) {
		t.Errorf("no log line refusing the PROXY header from 127.0.0.2")
	}
	if strings.Contains(srv.logText(), "10.1.2.3") {
		t.Errorf("the server took the address 10.1.2.3 from an untrusted header")
	}
	wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2"}),
		"alice", "plain ssh straight to the server from 127.0.0.2")
}
