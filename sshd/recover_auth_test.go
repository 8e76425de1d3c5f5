package sshd

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/gliderlabs/ssh"
)

// authContext is the little of ssh.Context an auth callback's recovery uses.
type authContext struct {
	context.Context
	sync.Mutex
}

func (*authContext) User() string                  { return "mallory\x1b[2J" }
func (*authContext) SessionID() string             { return "" }
func (*authContext) ClientVersion() string         { return "" }
func (*authContext) ServerVersion() string         { return "" }
func (*authContext) RemoteAddr() net.Addr          { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9} }
func (*authContext) LocalAddr() net.Addr           { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22} }
func (*authContext) Permissions() *ssh.Permissions { return nil }
func (*authContext) SetValue(key, value any)       {}

// TestRecoverAuth: a panic in an authentication callback, which runs on the
// connection's goroutine, refuses that attempt and is logged with its stack
// and an escaped user name, instead of ending the process.
func TestRecoverAuth(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := &authContext{Context: context.Background()}
	ok := func() (ok bool) {
		defer s.recoverAuth(ctx, "password", &ok)
		panic("bug in a login path")
	}()
	if ok {
		t.Fatal("a panicking login was accepted")
	}
	out := logs.String()
	for _, want := range []string{"recovered from a panic", "bug in a login path", "stack", `mallory\\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
