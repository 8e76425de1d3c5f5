package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"testing"
	"time"

	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/internal/testkit"
)

// TestReaderPatterns reads a blob as clients do, in order, by offsets
// growing with gaps (as SFTP does), backwards and across the end, Read and
// ReadAt mixed, and compares every read with the content.
func TestReaderPatterns(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	const size = 3<<20 + 11
	content := testkit.RandBytes(t, size)
	key, err := s.Put(ctx, bytes.NewReader(content), size)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := bytes.NewReader(content)
	rng := rand.New(rand.NewPCG(1, 2))
	off := int64(0)
	for i := range 200 {
		n := rng.IntN(64 << 10)
		switch rng.IntN(5) {
		case 0: // on in order, by Read
			got, exp := make([]byte, n), make([]byte, n)
			gn, gerr := io.ReadFull(r, got)
			en, eerr := io.ReadFull(want, exp)
			if gn != en || !bytes.Equal(got[:gn], exp[:en]) || (gerr == nil) != (eerr == nil) {
				t.Fatalf("step %d: Read of %d: %d, %v; want %d, %v", i, n, gn, gerr, en, eerr)
			}
			continue
		case 1: // on in order, by ReadAt
		case 2: // a gap forward, small or large
			off += int64(rng.IntN(2 << 20))
		case 3: // anywhere
			off = rng.Int64N(size + 100)
		case 4: // a little behind, as SFTP's late reads
			off -= rng.Int64N(min(off, 1<<20) + 1)
		}
		got, exp := make([]byte, n), make([]byte, n)
		gn, gerr := r.ReadAt(got, off)
		en, eerr := want.ReadAt(exp, off)
		if gn != en || !bytes.Equal(got[:gn], exp[:en]) || gerr != eerr {
			t.Fatalf("step %d: ReadAt(%d bytes, %d): %d, %v; want %d, %v", i, n, off, gn, gerr, en, eerr)
		}
		off += int64(gn)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("ReadAt after Close succeeded")
	}
}

// An SFTP server's workers read a few requests out of order; those late
// reads are served from what the response already gave, not by a new GET.
func TestReaderSFTPOrderOneGet(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	const chunk, size = 32 << 10, 8 << 20
	content := testkit.RandBytes(t, size)
	key, err := s.Put(ctx, bytes.NewReader(content), size)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, size)
	// Groups of 8 requests, each group's reads in reversed order.
	for g := 0; g < size; g += 8 * chunk {
		for i := 7; i >= 0; i-- {
			off := g + i*chunk
			if _, err := r.ReadAt(got[off:off+chunk], int64(off)); err != nil {
				t.Fatalf("ReadAt %d: %v", off, err)
			}
		}
	}
	if !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	if n := s3store.ReaderGets(r); n != 0 {
		t.Errorf("%d more GETs after Open's, want none", n)
	}
}

// TestStat: a blob's size and a recent change time; a missing blob is
// fs.ErrNotExist, for Stat and Open alike.
func TestStat(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Minute) // the gateway's clock is ours, in seconds
	key, err := s.Put(ctx, bytes.NewReader([]byte("12345")), 5)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil || info.Size != 5 || info.Changed.Before(before) || info.Changed.After(time.Now().Add(time.Minute)) {
		t.Errorf("Stat = %+v, %v; want 5 bytes changed about now", info, err)
	}
	if err := s.Remove(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a removed blob: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a removed blob: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "not/a key"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a malformed key: %v, want a malformed-key error", err)
	}
}
