package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/internal/s3test"
	"github.com/sshelf/sshelf/internal/testkit"
)

// TestOpenFails: Open says which bucket at which endpoint failed, and why.
// A dead endpoint fails by itself, within the retries' few seconds; the
// context's deadline is only a backstop.
func TestOpenFails(t *testing.T) {
	t.Parallel()
	good := s3test.Bucket(t)
	for _, tt := range []struct {
		name   string
		change func(*s3store.Config)
		want   error
	}{
		{"dead endpoint", func(c *s3store.Config) { c.Endpoint = s3test.DeadEndpoint(t) }, s3store.ErrUnreachable},
		{"no such bucket", func(c *s3store.Config) { c.Bucket = "never-made" }, s3store.ErrNoSuchBucket},
		{"wrong secret", func(c *s3store.Config) { c.SecretAccessKey += "x" }, s3store.ErrAccessDenied},
		{"unknown access key", func(c *s3store.Config) { c.AccessKeyID = "nobody" }, s3store.ErrAccessDenied},
	} {
		cfg := good
		tt.change(&cfg)
		ctx, cancel := context.WithTimeout(context.Background(), openBackstop)
		_, err := s3store.Open(ctx, cfg)
		cancel()
		if !errors.Is(err, tt.want) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Open: %v, want %v", tt.name, err, tt.want)
			continue
		}
		for _, part := range []string{cfg.Bucket, cfg.Endpoint} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: %q does not name %s", tt.name, err, part)
			}
		}
		t.Logf("%s: %v", tt.name, err)
	}
}

// openBackstop is far above what the retries of a dead endpoint take.
const openBackstop = time.Minute

// TestGatewayDown: with the gateway gone, every operation fails soon with
// ErrUnreachable, a stream in flight included; back up, the store works
// again with what it held.
func TestGatewayDown(t *testing.T) {
	t.Parallel()
	g := s3test.Start(t)
	s := open(t, g.Bucket(t))
	ctx := context.Background()
	content := testkit.RandBytes(t, 2<<20)
	key, err := s.Put(ctx, bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	big := testkit.RandBytes(t, large)
	st, err := s.Begin(ctx, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(partSize); err != nil {
		t.Fatal(err)
	}

	g.Stop(t)
	for _, tt := range []struct {
		name string
		op   func() error
	}{
		{"ping", func() error { return s.Ping(ctx) }},
		{"put", func() error { _, err := s.Put(ctx, bytes.NewReader(content), int64(len(content))); return err }},
		{"put of parts", func() error { _, err := s.Put(ctx, bytes.NewReader(big), large); return err }},
		{"open", func() error { _, err := s.Open(ctx, key); return err }},
		{"read elsewhere", func() error { _, err := r.ReadAt(make([]byte, 10), 0); return err }},
		{"read on", func() error { _, err := io.Copy(io.Discard, r); return err }},
		{"stat", func() error { _, err := s.Stat(ctx, key); return err }},
		{"remove", func() error { return s.Remove(ctx, key) }},
		{"keys", func() error { return s.Keys(ctx, func(string) error { return nil }) }},
		{"unfinished", func() error { return s.Unfinished(ctx, func(files.Unfinished) error { return nil }) }},
		{"finish a stream", func() error { _, err := st.Finish(ctx, large); return err }},
	} {
		err := tt.op()
		if !errors.Is(err, s3store.ErrUnreachable) {
			t.Errorf("%s with the gateway down: %v, want %v", tt.name, err, s3store.ErrUnreachable)
		}
		t.Logf("%s: %v", tt.name, err)
	}

	g.Restart(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	wantStored(t, s, key, content)
	buf := make([]byte, 100)
	if _, err := r.ReadAt(buf, 1000); err != nil || !bytes.Equal(buf, content[1000:1100]) {
		t.Errorf("a reader opened before the outage, after it: %v", err)
	}
}
