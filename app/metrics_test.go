package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/testkit"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) metricsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(s.b.String(), "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "metrics listening" {
			return l.Addr
		}
	}
	return ""
}

// TestMetricsListener: the listener is up once Serve logs "listening",
// /readyz names the blob store when its folder is gone, and the listener
// closes with the SSH server.
func TestMetricsListener(t *testing.T) {
	signer := testkit.HostKey(t)
	dir := t.TempDir()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan struct{})
	var once sync.Once
	a, err := Open(ctx, Options{Data: dir, Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0",
		HostKeys: []gossh.Signer{signer},
		Logger: slog.New(fanout{slog.NewJSONHandler(logs, nil),
			onMessage{"listening", func() { once.Do(func() { close(listening) }) }}})})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, nil) }()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("Serve never logged listening")
	}
	addr := logs.metricsAddr()
	if addr == "" {
		t.Fatal(`no "metrics listening" line before "listening"`)
	}
	status := func(path string) (int, string) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := status("/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	blobs := filepath.Join(dir, "blobs")
	if err := os.Rename(blobs, blobs+".away"); err != nil {
		t.Fatal(err)
	}
	if code, body := status("/readyz"); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "blob store: ") {
		t.Errorf("/readyz without the blob folder = %d %q", code, body)
	}
	if err := os.Rename(blobs+".away", blobs); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Errorf("the metrics listener %s still accepts after Serve returned", addr)
	}
}

// fanout hands each record to every handler.
type fanout []slog.Handler

func (f fanout) Enabled(context.Context, slog.Level) bool { return true }
func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		h.Handle(ctx, r.Clone())
	}
	return nil
}
func (f fanout) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f fanout) WithGroup(string) slog.Handler      { return f }
