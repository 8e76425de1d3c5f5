package files

import (
	"context"
	"errors"
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
	// HasBlob reports whether the catalog knows the blob key: a record
	// refers to it, or it waits on the garbage list. Any other blob is an
	// orphan.
	HasBlob(ctx context.Context, key string) (bool, error)
	// Garbage returns up to limit blob keys that records dropped (replaced
	// or deleted: Put, Update, Delete, Rename put them on the list in the
	// same transaction) at or before before, oldest first.
	Garbage(ctx context.Context, before time.Time, limit int) ([]string, error)
	// Collected takes key off the garbage list, once its blob is removed.
	Collected(ctx context.Context, key string) error
	// Records returns up to limit records, hidden ones included, with
	// names after after, sorted by name: for `sshelf check` and backups.
	Records(ctx context.Context, after string, limit int) ([]Record, error)
}

// Blobs stores file contents: finished streams, each under a key of the
// store's choosing, never changed after. Uploads are written elsewhere
// first (a spool of the Service's, where writes may come at any offset),
// so a store needs no random access for writing: a later S3-compatible
// store implements the same interface.
type Blobs interface {
	// Put stores the size bytes r yields as a new blob, durably, and
	// returns its key. A stream shorter or longer than size is an error,
	// and an error stores nothing.
	Put(ctx context.Context, r io.Reader, size int64) (string, error)
	// Open opens a blob for reading, in order or at any offset. A missing
	// blob is an error wrapping fs.ErrNotExist.
	Open(ctx context.Context, key string) (BlobReader, error)
	// Remove deletes a blob; a missing one is not an error. Readers that
	// opened it may fail after: the Service removes a replaced or deleted
	// blob only after a grace period (see Catalog.Garbage).
	Remove(ctx context.Context, key string) error
	// Keys calls fn with every blob's key.
	Keys(ctx context.Context, fn func(key string) error) error
}

// Adopter is a Blobs store that can take a finished spool file as a new
// blob by moving it (a rename on one file system), without a copy. The
// file's content is already synced; the store makes the move durable.
type Adopter interface {
	// Adopt moves the file at path into the store and returns its key.
	// ErrNotAdopted says the file cannot be moved there (another file
	// system): the caller then Puts it.
	Adopt(ctx context.Context, path string) (string, error)
}

// ErrNotAdopted is an Adopt that moved nothing, for a reason that Put
// would not meet.
var ErrNotAdopted = errors.New("cannot move the file into the store")

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

// Streamer is a Blobs store that can take an upload's content while it
// still arrives (S3's multipart upload): a commit then sends only the tail,
// so a large upload neither waits long at the end nor needs its size in
// memory. The Service streams only while the upload's bytes arrive in
// order; when the client rewrites bytes already handed over, it aborts the
// stream and Puts the finished content at Commit instead.
type Streamer interface {
	// Begin starts a blob whose content src holds (a spool file that
	// grows; bytes below the end given to Ready never change). Nothing is
	// visible before Finish. ctx bounds the whole stream, Finish included.
	Begin(ctx context.Context, src io.ReaderAt) (BlobStream, error)
}

// BlobStream is a blob being stored while its content arrives.
type BlobStream interface {
	// Ready says src's bytes [0, end) are final. The store may send the
	// whole parts below end now, reading src from other goroutines, and
	// may block while too many parts are in flight (so a fast client
	// waits for the store rather than growing memory). end never
	// decreases. An error is the stream's first failure: Abort it.
	Ready(end int64) error
	// Finish sends src's bytes past those already sent, up to size (at
	// least the last end given to Ready), waits for every part, and makes
	// the blob durable and visible under the key it returns. After Finish
	// or Abort returns, src is not read again.
	Finish(ctx context.Context, size int64) (string, error)
	// Abort discards what was sent and waits for parts in flight.
	Abort(ctx context.Context) error
}

// SharedStore is a Blobs store that several servers write to (S3). Its
// keys say which server instance stored them, so that garbage collection
// never removes another live server's upload in flight.
type SharedStore interface {
	// Instance returns the id of the server instance that stored key or
	// began it, "" if the key does not say.
	Instance(key string) string
	// Unfinished calls fn with every blob begun and neither finished nor
	// aborted (S3 multipart uploads), on every instance.
	Unfinished(ctx context.Context, fn func(Unfinished) error) error
	// AbortUnfinished discards an unfinished blob; a gone one is no error.
	AbortUnfinished(ctx context.Context, u Unfinished) error
}

// Unfinished is a blob begun and not finished.
type Unfinished struct {
	Key   string
	ID    string // the store's id of the attempt (an S3 upload id)
	Began time.Time
}

// Cluster is what a Catalog shared by several servers offers them to
// coordinate (PostgreSQL): which instances are alive, and locks that one
// instance at a time holds.
type Cluster interface {
	// Heartbeat records that instance is alive at now.
	Heartbeat(ctx context.Context, instance string, now time.Time) error
	// Alive returns the instances whose last heartbeat is at or after
	// since.
	Alive(ctx context.Context, since time.Time) (map[string]bool, error)
	// TryLock takes the cluster-wide lock name unless another instance
	// holds it (ok false). release gives it back; a lost connection
	// releases it too.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}
