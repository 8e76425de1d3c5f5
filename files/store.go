package files

import (
	"context"
	"io"
	"time"
)

// Catalog stores records. It enforces no rule itself: the check functions
// it is given run inside its transaction, so a rule and the change it guards
// are atomic. A later PostgreSQL catalog implements the same interface.
type Catalog interface {
	// Lookup returns the record named name, or ErrNotFound.
	Lookup(ctx context.Context, name string) (Record, error)
	// ListPublic returns one page of public files in q's order, paged by
	// key (see ListQuery), in display order. Names sort in byte order.
	ListPublic(ctx context.Context, q ListQuery) ([]File, error)
	// Put stores rec under rec.Name. check sees the record it would
	// replace (nil if none) and the bytes its owner holds now; a non-nil
	// error aborts. Put returns the replaced record, if any.
	Put(ctx context.Context, rec Record, check func(old *Record, ownerUsage int64) error) (*Record, error)
	// Update changes the record named name with fn, atomically.
	Update(ctx context.Context, name string, fn func(*Record) error) error
	// Delete removes the record named name if check allows, and returns it.
	Delete(ctx context.Context, name string, check func(Record) error) (Record, error)
	// Rename moves a record to a new name; check sees the source and the
	// record the move would replace (nil if none). It returns the replaced one.
	Rename(ctx context.Context, from, to string, check func(src Record, dst *Record) error) (*Record, error)
	// Usage returns the bytes owner's files hold.
	Usage(ctx context.Context, owner string) (int64, error)
	// OwnedBy returns the names of the files owner holds.
	OwnedBy(ctx context.Context, owner string) ([]string, error)
	// HasBlob reports whether any record refers to the blob key.
	HasBlob(ctx context.Context, key string) (bool, error)
	// Records returns up to limit records, hidden ones included, with
	// names after after, sorted by name: for `sshelf check` and backups.
	Records(ctx context.Context, after string, limit int) ([]Record, error)
}

// Blobs stores file contents. A blob is written to a temporary place and
// becomes addressable by its key only on Commit. A later S3-compatible store
// implements the same interface.
type Blobs interface {
	Create(ctx context.Context) (BlobWriter, error)
	Open(ctx context.Context, key string) (BlobReader, error)
	Remove(ctx context.Context, key string) error
	// Keys calls fn with every committed key.
	Keys(ctx context.Context, fn func(key string) error) error
	// CleanTemp removes every uncommitted blob, for start-up after a crash.
	CleanTemp(ctx context.Context) error
}

// BlobWriter is a blob being written. Writes may come at any offset.
type BlobWriter interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	Truncate(size int64) error
	// Commit makes the content durable and returns its key.
	Commit(ctx context.Context) (string, error)
	// Abort discards the content.
	Abort() error
}

// BlobReader reads a committed blob.
type BlobReader interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// BlobInfo is what a store knows of a committed blob without reading it.
type BlobInfo struct {
	Size int64
	// Changed is when the blob was last written or committed: an orphan
	// younger than a grace period may be a commit whose record is on its
	// way (see Check).
	Changed time.Time
}
