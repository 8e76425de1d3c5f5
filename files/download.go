package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"sync"
)

// Download is a file's content on its way out, checked against the
// recorded SHA-256 as it streams (rule 7): the read that would complete a
// mismatching file returns ErrCorrupt instead of its bytes.
type Download struct {
	File
	r BlobReader

	mu      sync.Mutex
	h       hash.Hash
	hashed  int64 // bytes hashed: a prefix of the content
	scratch []byte
	err     error // sticky verification failure
}

// Open starts a download of the file named name for user: any visibility
// (rule 2), the download password for a protected file (rules 3 and 8).
func (s *Service) Open(ctx context.Context, user, name, password string) (*Download, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rec, err := s.catalog.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(ctx, user, rec, password); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		r, err := s.blobs.Open(ctx, rec.Blob)
		if err == nil {
			return &Download{File: rec.File, r: r, h: sha256.New()}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return nil, err
		}
		// Replaced between the lookup and the open, and the old content
		// already removed (the disk store keeps no grace period): read
		// the new version instead.
		again, lerr := s.catalog.Lookup(ctx, name)
		if lerr != nil {
			return nil, lerr
		}
		if again.Blob == rec.Blob {
			return nil, err // the content itself is missing
		}
		if again.PasswordHash != rec.PasswordHash {
			if err := s.checkPassword(ctx, user, again, password); err != nil {
				return nil, err
			}
		}
		rec = again
	}
}

// Read reads the content in order.
func (d *Download) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	rest := d.Size - d.hashed
	if rest <= 0 {
		if err := d.verify(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.hashed += int64(n)
	if d.hashed == d.Size {
		if verr := d.verify(); verr != nil {
			return 0, verr
		}
	}
	if err == io.EOF && d.hashed < d.Size {
		d.err = ErrCorrupt // content shorter than recorded
		return 0, d.err
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// ReadAt reads at any offset, for SFTP. Bytes the client skips are hashed
// from the store so that the check still covers the whole file.
func (d *Download) ReadAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	if off < 0 {
		// A caller's mistake, not the content's: no corruption alarm.
		return 0, fmt.Errorf("read %q: negative offset %d", d.Name, off)
	}
	if off >= d.Size {
		return 0, io.EOF
	}
	short := false
	if rest := d.Size - off; int64(len(p)) > rest {
		p, short = p[:rest], true
	}
	if off > d.hashed {
		if err := d.hashGap(off); err != nil {
			return 0, err
		}
	}
	n, err := d.r.ReadAt(p, off)
	if n < len(p) {
		d.err = ErrCorrupt
		return 0, d.err
	}
	if end := off + int64(n); off <= d.hashed && end > d.hashed {
		d.h.Write(p[d.hashed-off : n])
		d.hashed = end
		if d.hashed == d.Size {
			if verr := d.verify(); verr != nil {
				return 0, verr
			}
		}
	}
	if short || err == io.EOF {
		return n, io.EOF
	}
	return n, nil
}

func (d *Download) hashGap(to int64) error {
	if d.scratch == nil {
		d.scratch = make([]byte, 256<<10)
	}
	for d.hashed < to {
		chunk := d.scratch[:min(int64(len(d.scratch)), to-d.hashed)]
		n, err := d.r.ReadAt(chunk, d.hashed)
		d.h.Write(chunk[:n])
		d.hashed += int64(n)
		if n < len(chunk) {
			if err == nil || err == io.EOF {
				err = ErrCorrupt
			}
			d.err = err
			return err
		}
	}
	return nil
}

func (d *Download) verify() error {
	if hex.EncodeToString(d.h.Sum(nil)) != d.SHA256 {
		d.err = ErrCorrupt
		return d.err
	}
	return nil
}

// Verified reports whether every byte was hashed and matched.
func (d *Download) Verified() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err == nil && d.hashed == d.Size && hex.EncodeToString(d.h.Sum(nil)) == d.SHA256
}

// Close releases the content.
func (d *Download) Close() error { return d.r.Close() }
