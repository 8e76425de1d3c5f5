package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// DefaultOrphanGrace is how old an orphan blob must be before Check removes
// it. A running server commits a blob a moment before it writes the record
// that refers to it; in between the blob looks orphaned.
const DefaultOrphanGrace = time.Hour

// ProblemKind names what Check found wrong.
type ProblemKind string

const (
	// Corrupt: the content differs from its recorded size or SHA-256, or
	// cannot be read.
	Corrupt ProblemKind = "corrupt"
	// Missing: the record's content is not in the store.
	Missing ProblemKind = "missing"
	// Orphan: content no record refers to and not on the garbage list. It
	// wastes space; nothing is lost.
	Orphan ProblemKind = "orphan"
)

// Problem is one finding of Check.
type Problem struct {
	Kind   ProblemKind
	Name   string // the file's name, as stored (unescaped); "" for an orphan
	Blob   string // the content's key in the store
	Detail string // what was found, e.g. "sha256 3f2a... (recorded 9b1c...)"
	// For an orphan: Removed when it was removed, Young when it was kept
	// because it is younger than the grace period (or its age is unknown).
	Removed bool
	Young   bool
}

// CheckOptions tune Check.
type CheckOptions struct {
	// RemoveOrphans removes orphans older than OrphanGrace.
	RemoveOrphans bool
	OrphanGrace   time.Duration
	// Report, if set, is called with each problem as it is found.
	Report func(Problem)
}

// CheckSummary counts what Check saw.
type CheckSummary struct {
	Files   int64 // records checked
	Bytes   int64 // content bytes read and hashed
	Corrupt int
	Missing int
	Orphans int
	Removed int // orphans removed
}

// OK reports whether every file's content is there and intact. Orphans
// waste space but lose nothing, so they do not count.
func (s CheckSummary) OK() bool { return s.Corrupt == 0 && s.Missing == 0 }

func (s CheckSummary) String() string {
	line := fmt.Sprintf("checked %d files, %d bytes: %d corrupt, %d missing, %d orphans",
		s.Files, s.Bytes, s.Corrupt, s.Missing, s.Orphans)
	if s.Removed > 0 {
		line += fmt.Sprintf(" (%d removed)", s.Removed)
	}
	return line
}

// blobStater is a Blobs store that can tell a blob's age without reading
// it. Check removes orphans only from such a store.
type blobStater interface {
	Stat(ctx context.Context, key string) (BlobInfo, error)
}

const checkPage = 500

// Check verifies every stored file's content against its recorded size and
// SHA-256, then looks for orphan content. It reads one blob at a time
// through a fixed buffer, and is safe while a server runs: a file replaced
// or removed during the check is checked as it is now, or skipped. An error
// is returned only when the check itself cannot go on (catalog or store
// unavailable, ctx cancelled); a bad file is a Problem.
func (s *Service) Check(ctx context.Context, opt CheckOptions) (CheckSummary, error) {
	c := &checker{s: s, opt: opt, buf: make([]byte, 1<<20)}
	after := ""
	for {
		page, err := s.catalog.Records(ctx, after, checkPage)
		if err != nil {
			return c.sum, fmt.Errorf("check: %w", err)
		}
		for _, r := range page {
			if err := c.file(ctx, r); err != nil {
				return c.sum, fmt.Errorf("check %q: %w", r.Name, err)
			}
		}
		if len(page) < checkPage {
			break
		}
		after = page[len(page)-1].Name
	}
	if err := c.orphans(ctx); err != nil {
		return c.sum, fmt.Errorf("check orphans: %w", err)
	}
	return c.sum, nil
}

type checker struct {
	s   *Service
	opt CheckOptions
	buf []byte
	sum CheckSummary
}

func (c *checker) report(p Problem) {
	switch p.Kind {
	case Corrupt:
		c.sum.Corrupt++
	case Missing:
		c.sum.Missing++
	case Orphan:
		c.sum.Orphans++
		if p.Removed {
			c.sum.Removed++
		}
	}
	if c.opt.Report != nil {
		c.opt.Report(p)
	}
}

// errGone is a blob not in the store: missing, unless its record changed.
var errGone = errors.New("content gone")

// file checks one record. A blob that is gone may belong to a record
// replaced or removed since the page was read: what the catalog holds now
// decides (a few times, for a file replaced over and over).
func (c *checker) file(ctx context.Context, r Record) error {
	for range 3 {
		err := c.verify(ctx, r)
		if !errors.Is(err, errGone) {
			return err
		}
		cur, lerr := c.s.catalog.Lookup(ctx, r.Name)
		switch {
		case errors.Is(lerr, ErrNotFound):
			return nil // removed meanwhile
		case lerr != nil:
			return lerr
		case cur.Blob == r.Blob:
			c.sum.Files++
			c.report(Problem{Kind: Missing, Name: r.Name, Blob: r.Blob, Detail: "content not found"})
			return nil
		}
		r = cur
	}
	return nil
}

// verify hashes r's blob, reporting a mismatch; it returns errGone for a
// blob not in the store.
func (c *checker) verify(ctx context.Context, r Record) error {
	b, err := c.s.blobs.Open(ctx, r.Blob)
	if errors.Is(err, fs.ErrNotExist) {
		return errGone
	}
	if err != nil {
		c.sum.Files++
		c.report(Problem{Kind: Missing, Name: r.Name, Blob: r.Blob, Detail: err.Error()})
		return nil
	}
	defer b.Close()
	c.sum.Files++
	h := sha256.New()
	// One byte past the recorded size tells a longer blob from a whole one.
	src := io.LimitReader(b, r.Size+1)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := src.Read(c.buf)
		h.Write(c.buf[:m])
		n += int64(m)
		c.sum.Bytes += int64(m)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			c.report(Problem{Kind: Corrupt, Name: r.Name, Blob: r.Blob, Detail: "read: " + rerr.Error()})
			return nil
		}
	}
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case n > r.Size:
		c.report(Problem{Kind: Corrupt, Name: r.Name, Blob: r.Blob,
			Detail: fmt.Sprintf("content longer than the recorded %d bytes", r.Size)})
	case n < r.Size:
		c.report(Problem{Kind: Corrupt, Name: r.Name, Blob: r.Blob,
			Detail: fmt.Sprintf("content is %d bytes, recorded %d", n, r.Size)})
	case got != r.SHA256:
		c.report(Problem{Kind: Corrupt, Name: r.Name, Blob: r.Blob,
			Detail: fmt.Sprintf("sha256 %s, recorded %s", got, r.SHA256)})
	}
	return nil
}

// orphans reports (and, if asked, removes) content no record refers to.
// Each candidate is looked up again after the walk: a record written
// meanwhile (a commit in flight) adopts it.
func (c *checker) orphans(ctx context.Context) error {
	var candidates []string
	err := c.s.blobs.Keys(ctx, func(key string) error {
		ok, err := c.s.catalog.HasBlob(ctx, key)
		if err == nil && !ok {
			candidates = append(candidates, key)
		}
		return err
	})
	if err != nil {
		return err
	}
	stater, _ := c.s.blobs.(blobStater)
	for _, key := range candidates {
		p := Problem{Kind: Orphan, Blob: key, Young: true}
		if stater != nil {
			info, err := stater.Stat(ctx, key)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile: a replaced file's old content
			}
			if err != nil {
				return err
			}
			age := c.s.now().Sub(info.Changed)
			p.Young = age < c.opt.OrphanGrace
			p.Detail = fmt.Sprintf("%d bytes, %s old", info.Size, age.Truncate(time.Second))
		} else {
			p.Detail = "age unknown"
		}
		if ok, err := c.s.catalog.HasBlob(ctx, key); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		if c.opt.RemoveOrphans && !p.Young {
			if err := c.s.blobs.Remove(ctx, key); err != nil {
				return err
			}
			p.Removed = true
		}
		c.report(p)
	}
	return nil
}
