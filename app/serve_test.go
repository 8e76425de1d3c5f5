package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/testkit"
)

// TestServeStopsRightAfterStart: a signal that comes before the SSH server
// has taken its listener still stops Serve (it once waited in Accept for
// ever), every time of many.
func TestServeStopsRightAfterStart(t *testing.T) {
	signer := testkit.HostKey(t)
	for i := 0; i < 20; i++ {
		a := openTestApp(t, t.TempDir())
		a.opt.Listen = "127.0.0.1:0"
		a.opt.HostKeys = []gossh.Signer{signer}
		ln, err := a.Listen()
		if err != nil {
			t.Fatal(err)
		}
		// The signal comes the moment start-up says it listens.
		ctx, cancel := context.WithCancel(context.Background())
		a.opt.Logger = slog.New(onMessage{"listening", cancel})
		done := make(chan error, 1)
		go func() { done <- a.Serve(ctx, ln, nil) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Serve did not return after its context ended", i)
		}
	}
}

// onMessage calls fn when a record with message msg is logged.
type onMessage struct {
	msg string
	fn  func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }
