package s3store_test

import (
	"context"
	"strings"
	"testing"

	s3store "github.com/sshelf/sshelf/files/s3"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url     string
		want    s3store.Config
		wantErr string // a part of the error; "" for success
	}{
		{url: "s3://files?endpoint=http://127.0.0.1:7070&region=eu-west-1",
			want: s3store.Config{Bucket: "files", Endpoint: "http://127.0.0.1:7070", Region: "eu-west-1"}},
		{url: "s3://files.example-1?endpoint=https%3A%2F%2Fs3.example.com",
			want: s3store.Config{Bucket: "files.example-1", Endpoint: "https://s3.example.com"}},
		{url: "s3://files", want: s3store.Config{Bucket: "files"}},
		{url: "s3://files/sshelf/prod/?region=r", want: s3store.Config{Bucket: "files", Prefix: "sshelf/prod", Region: "r"}},
		{url: "s3://?endpoint=http://h", wantErr: "missing bucket"},
		{url: "s3:///prefix", wantErr: "missing bucket"},
		{url: "s3:files", wantErr: "missing bucket"},
		{url: "http://files", wantErr: "want s3://BUCKET"},
		{url: "files", wantErr: "want s3://BUCKET"},
		{url: "s3://Files", wantErr: `bucket "Files"`},
		{url: "s3://ab", wantErr: `bucket "ab"`},
		{url: "s3://files-", wantErr: `bucket "files-"`},
		{url: "s3://files:9000", wantErr: `bucket "files:9000"`},
		{url: "s3://key:secret@files", wantErr: "credentials do not belong in the URL"},
		{url: "s3://files?endpoint=127.0.0.1:7070", wantErr: `endpoint "127.0.0.1:7070"`},
		{url: "s3://files?endpoint=ftp://h", wantErr: `endpoint "ftp://h"`},
		{url: "s3://files?endpoint=http://", wantErr: `endpoint "http://"`},
		{url: "s3://files?endpoint=", wantErr: `endpoint ""`},
		{url: "s3://files?endpoint=http://h/path", wantErr: `endpoint "http://h/path"`},
		{url: "s3://files?endpoint=http://a&endpoint=http://b", wantErr: "endpoint given 2 times"},
		{url: "s3://files?region=", wantErr: "empty region"},
		{url: "s3://files?regoin=x", wantErr: `unknown query key "regoin"`},
		{url: "s3://files?access_key=x", wantErr: `unknown query key "access_key"`},
		{url: "s3://files#frag", wantErr: "unexpected #frag"},
	} {
		got, err := s3store.ParseURL(tt.url)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseURL(%q): %v", tt.url, err)
		case tt.wantErr == "" && got != tt.want:
			t.Errorf("ParseURL(%q) = %+v, want %+v", tt.url, got, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseURL(%q): %v, want an error with %q", tt.url, err, tt.wantErr)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg := s3store.Config{Bucket: "files"}
	if err := cfg.LoadCredentials(lookup); err != nil || cfg.AccessKeyID != "AK" || cfg.SecretAccessKey != "SK" {
		t.Errorf("LoadCredentials: %+v, %v", cfg, err)
	}
	delete(env, "AWS_SECRET_ACCESS_KEY")
	if err := cfg.LoadCredentials(lookup); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY not set") {
		t.Errorf("LoadCredentials without the secret: %v", err)
	}
}

// TestOpenBadConfig: a config Open refuses before any request.
func TestOpenBadConfig(t *testing.T) {
	t.Parallel()
	good := s3store.Config{Bucket: "files", Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "s", Instance: "i1"}
	for _, tt := range []struct {
		name    string
		change  func(*s3store.Config)
		wantErr string
	}{
		{"no instance", func(c *s3store.Config) { c.Instance = "" }, `instance id ""`},
		{"instance with a slash", func(c *s3store.Config) { c.Instance = "a/b" }, `instance id "a/b"`},
		{"no credentials", func(c *s3store.Config) { c.SecretAccessKey = "" }, "no credentials"},
		{"no bucket", func(c *s3store.Config) { c.Bucket = "" }, "missing bucket"},
		{"small parts", func(c *s3store.Config) { c.PartSize = 1 << 20 }, "part size"},
		{"negative parts in flight", func(c *s3store.Config) { c.PartsInFlight = -1 }, "parts in flight"},
		{"bad endpoint", func(c *s3store.Config) { c.Endpoint = "localhost" }, `endpoint "localhost"`},
		{"prefix with an empty folder", func(c *s3store.Config) { c.Prefix = "a//b" }, "empty folder"},
	} {
		cfg := good
		tt.change(&cfg)
		_, err := s3store.Open(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Open: %v, want an error with %q", tt.name, err, tt.wantErr)
		}
	}
}
