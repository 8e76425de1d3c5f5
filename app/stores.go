package app

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	authsqlite "github.com/sshelf/sshelf/auth/sqlite"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/internal/diskspace"
	"github.com/sshelf/sshelf/internal/metrics"
	"github.com/sshelf/sshelf/internal/sessions"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
)

// stores are where an App keeps things: embedded (SQLite and the data
// directory) or shared with the other servers of a cluster (PostgreSQL,
// an S3 bucket; shared.go).
type stores struct {
	catalog  files.Catalog
	blobs    files.Blobs
	accounts auth.Store
	attempts throttle.Store
	// stored counts the files and bytes the catalog holds, for metrics.
	stored func(context.Context) (count, bytes int64, err error)
	// hostKeys loads (creating at first start) the keys every server
	// of the catalog presents.
	hostKeys func(context.Context) ([]gossh.Signer, error)
	// ready are /readyz's questions.
	ready []metrics.Check

	// sessions counts sessions across the cluster; nil: in this process.
	// openSessions starts it, for serve only (it keeps a heartbeat).
	sessions     sessions.Counter
	openSessions func(context.Context) error

	spoolDir string
	// space is the free space uploads need on this server: the disk
	// store's, or the spool's with a bucket.
	space        files.FreeSpace
	garbageGrace time.Duration
	sharedBlobs  bool
	instance     string // "" alone

	// embedded is set for the SQLite catalog with contents on disk: what
	// backups and the disk-full handling need.
	embedded *embeddedStores

	closers []func()
}

type embeddedStores struct {
	db      *sql.DB
	catalog *sqlite.Catalog
	disk    *disk.Store
	reserve *diskspace.Reserve
}

// DefaultGarbageGrace is how long a shared store keeps a replaced or removed
// blob, so that a download of the old version on another server finishes
// whole.
const DefaultGarbageGrace = time.Hour

func openStores(ctx context.Context, opt Options) (*stores, error) {
	if opt.Catalog != "" || opt.Blobs != "" {
		return openShared(ctx, opt)
	}
	st := &stores{}
	e, err := openEmbedded(ctx, opt, st)
	if err != nil {
		st.close()
		return nil, err
	}
	st.embedded = e
	st.catalog, st.stored = e.catalog, e.catalog.Stored
	st.blobs, st.spoolDir, st.space = e.disk, e.disk.TempDir(), e.disk
	// GarbageGrace 0: the disk store is this server's alone, and a file
	// open for a download stays readable after its removal.
	st.garbageGrace = 0
	st.hostKeys = func(context.Context) ([]gossh.Signer, error) {
		return hostkeys.LoadOrCreate(filepath.Join(opt.Data, "hostkeys"))
	}
	st.ready = e.readyChecks(opt.Data)
	return st, nil
}

// openEmbedded opens the SQLite catalog in the data directory, with the
// accounts and throttle counts beside it, and the contents under it.
func openEmbedded(ctx context.Context, opt Options, st *stores) (*embeddedStores, error) {
	reserve := diskspace.NewReserve(filepath.Join(opt.Data, ReserveFile), ReserveSize)
	db, err := openDB(ctx, filepath.Join(opt.Data, "sshelf.db"), reserve, opt.Logger)
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, func() { db.Close() })
	catalog, err := sqlite.New(ctx, db)
	if err != nil {
		return nil, err
	}
	if st.attempts, err = sqlitethrottle.Open(ctx, db); err != nil {
		return nil, err
	}
	if st.accounts, err = authsqlite.Open(ctx, db); err != nil {
		return nil, err
	}
	blobs, err := disk.New(opt.Data)
	if err != nil {
		return nil, err
	}
	if err := reserve.Restore(); err != nil {
		opt.Logger.Warn("disk reserve", "err", err)
	}
	return &embeddedStores{db: db, catalog: catalog, disk: blobs, reserve: reserve}, nil
}

func (st *stores) close() error {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
	st.closers = nil
	return nil
}

// dirSpace is the free space of the file system holding a folder.
type dirSpace string

func (d dirSpace) FreeSpace(context.Context) (int64, error) { return diskspace.Free(string(d)) }

// describe is what the start-up line says of the stores.
func (st *stores) describe() []any {
	if st.embedded != nil {
		return nil
	}
	return []any{"instance", st.instance}
}

// errNotEmbedded refuses what only the embedded stores can do.
func errNotEmbedded(what string) error {
	return fmt.Errorf("%s works on the embedded catalog and contents; with --catalog or --blobs, use the database's and the bucket's own tools (pg_dump, bucket versioning or replication)", what)
}
