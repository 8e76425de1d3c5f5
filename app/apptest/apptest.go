// Package apptest starts a real sshelf server in-process on a loopback
// port with a temporary data directory, for tests of the Go client, the
// transports and the load tests, as net/http/httptest does for handlers.
package apptest

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
)

// Server is a running test server.
type Server struct {
	Addr    string
	Data    string
	App     *app.App
	HostKey gossh.PublicKey // the first host key, for known_hosts checks
	Log     *syncBuffer     // everything the server logged (JSON lines)
}

// Options returns the defaults a test server starts with; change them in
// the modify function given to Start.
func Options(data string) app.Options {
	return app.Options{
		Listen:     "127.0.0.1:0",
		Data:       data,
		SignupOpen: true,
		Login: throttle.Policy{MaxFailures: 10, Window: 10 * time.Minute, Lockout: 10 * time.Minute,
			BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond},
		FilePassword:  throttle.Policy{MaxFailures: 10, Window: 10 * time.Minute, Lockout: 10 * time.Minute},
		IdleTimeout:   time.Minute,
		AuthTimeout:   30 * time.Second,
		ShutdownGrace: 5 * time.Second,
		// Argon2id at 64 KiB and one pass, as the e2e servers hash: the
		// default 19 MiB took most of the CPU of tests that log in often
		// under the race detector. Tests of hashing's cost set their own.
		PasswordHashMemory: 64,
		PasswordHashPasses: 1,
	}
}

// Start starts a server; modify, if not nil, adjusts its options. The
// server stops when the test ends.
func Start(t testing.TB, modify func(*app.Options)) *Server {
	t.Helper()
	data := t.TempDir()
	opt := Options(data)
	if modify != nil {
		modify(&opt)
	}
	if opt.HostKeys == nil {
		opt.HostKeys = []gossh.Signer{testkit.HostKey(t)}
	}
	logs := &syncBuffer{}
	opt.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, opt)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	ln, err := a.Listen()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("server did not stop")
		}
		a.Close()
	})
	s := &Server{Addr: ln.Addr().String(), Data: data, App: a, Log: logs, HostKey: opt.HostKeys[0].PublicKey()}
	// Wait until the server accepts connections.
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server at %s does not accept", s.Addr)
	return nil
}

// Dial opens an SSH connection as user with password, checking the host key.
func (s *Server) Dial(t testing.TB, user, password string) *gossh.Client {
	t.Helper()
	c, err := gossh.Dial("tcp", s.Addr, s.ClientConfig(user, gossh.Password(password)))
	if err != nil {
		t.Fatalf("dial %s as %s: %v", s.Addr, user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ClientConfig returns a client configuration for user that checks the
// server's Ed25519 host key.
func (s *Server) ClientConfig(user string, auth ...gossh.AuthMethod) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:              user,
		Auth:              auth,
		HostKeyCallback:   gossh.FixedHostKey(s.HostKey),
		HostKeyAlgorithms: []string{s.HostKey.Type()},
		Timeout:           30 * time.Second,
	}
}
