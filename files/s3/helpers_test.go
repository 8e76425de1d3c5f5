package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sshelf/sshelf/files"
	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/internal/s3test"
)

// partSize is the tests' part size: S3's least, so that a few parts are
// small data.
const partSize = s3store.MinPartSize

func open(t testing.TB, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

// newStore opens a store on a fresh bucket.
func newStore(t testing.TB) *s3store.Store {
	t.Helper()
	return open(t, s3test.Bucket(t))
}

func keys(t testing.TB, s files.Blobs) []string {
	t.Helper()
	var out []string
	if err := s.Keys(context.Background(), func(k string) error { out = append(out, k); return nil }); err != nil {
		t.Fatalf("keys: %v", err)
	}
	slices.Sort(out)
	return out
}

func unfinished(t testing.TB, s files.SharedStore) []files.Unfinished {
	t.Helper()
	var out []files.Unfinished
	if err := s.Unfinished(context.Background(), func(u files.Unfinished) error { out = append(out, u); return nil }); err != nil {
		t.Fatalf("unfinished: %v", err)
	}
	return out
}

// wantStored checks that key holds content, comparing hashes so that a
// mismatch does not print megabytes.
func wantStored(t testing.TB, s files.Blobs, key string, content []byte) {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if want := sha256.Sum256(content); n != int64(len(content)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("blob %s: %d bytes, differing from the %d put", key, n, len(content))
	}
}

// wantEmpty checks that nothing is stored, finished or not.
func wantEmpty(t testing.TB, s *s3store.Store) {
	t.Helper()
	if k := keys(t, s); len(k) != 0 {
		t.Errorf("blobs left: %v", k)
	}
	if u := unfinished(t, s); len(u) != 0 {
		t.Errorf("unfinished uploads left: %v", u)
	}
}

func headInput(bucket, name string) *s3.HeadObjectInput {
	return &s3.HeadObjectInput{Bucket: &bucket, Key: &name}
}
