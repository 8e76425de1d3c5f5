package app

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	authpg "github.com/sshelf/sshelf/auth/postgres"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/postgres"
	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/hostkeys/pghostkeys"
	"github.com/sshelf/sshelf/internal/metrics"
	"github.com/sshelf/sshelf/internal/pgdb"
	"github.com/sshelf/sshelf/internal/sessions/pgsessions"
	"github.com/sshelf/sshelf/internal/throttle/pgthrottle"
)

// openShared opens the stores of a cluster: the PostgreSQL catalog
// (--catalog) and the S3 bucket (--blobs). Either may be left embedded: a
// PostgreSQL catalog over contents on this server's disk is one server on
// PostgreSQL; an SQLite catalog over a bucket is one server storing its
// contents elsewhere.
func openShared(ctx context.Context, opt Options) (st *stores, err error) {
	st = &stores{instance: newInstanceID()}
	// The deferred close needs its own copy: a failing return sets st to nil.
	opened := st
	defer func() {
		if err != nil {
			opened.close()
		}
	}()
	var embedded *embeddedStores
	switch {
	case opt.Catalog == "":
		if embedded, err = openEmbedded(ctx, opt, st); err != nil {
			return nil, err
		}
		st.catalog, st.stored = embedded.catalog, embedded.catalog.Stored
		st.hostKeys = func(context.Context) ([]gossh.Signer, error) {
			return hostkeys.LoadOrCreate(filepath.Join(opt.Data, "hostkeys"))
		}
		st.ready = append(st.ready, embedded.readyChecks(opt.Data)[0])
	case pgdb.IsURL(opt.Catalog):
		if err := st.openPostgres(ctx, opt); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("--catalog %q: want a postgres:// URL (or nothing, for the SQLite catalog in the data directory)", opt.Catalog)
	}

	switch {
	case opt.Blobs == "":
		blobs := embeddedBlobs(embedded)
		if blobs == nil {
			if blobs, err = disk.New(opt.Data); err != nil {
				return nil, err
			}
		}
		st.blobs, st.spoolDir, st.space = blobs, blobs.TempDir(), blobs
		st.ready = append(st.ready, metrics.Check{Name: "blob store", Ask: func(ctx context.Context) error {
			_, err := blobs.FreeSpace(ctx)
			return err
		}})
	case strings.HasPrefix(opt.Blobs, "s3://"):
		cfg, err := s3store.ParseURL(opt.Blobs)
		if err != nil {
			return nil, err
		}
		lookup := opt.LookupEnv
		if lookup == nil {
			lookup = func(string) (string, bool) { return "", false }
		}
		if err := cfg.LoadCredentials(lookup); err != nil {
			return nil, err
		}
		cfg.Instance = st.instance
		blobs, err := s3store.Open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		st.blobs = blobs
		st.spoolDir, st.space = filepath.Join(opt.Data, "spool"), dirSpace(opt.Data)
		st.sharedBlobs = true
		st.garbageGrace = opt.GarbageGrace
		if st.garbageGrace == 0 {
			st.garbageGrace = DefaultGarbageGrace
		}
		st.ready = append(st.ready, metrics.Check{Name: "blob store", Ask: blobs.Ping})
	default:
		return nil, fmt.Errorf("--blobs %q: want s3://BUCKET?endpoint=URL&region=R (or nothing, for the contents under the data directory)", opt.Blobs)
	}
	st.embedded = embedded
	if embedded != nil && st.blobs != files.Blobs(embedded.disk) {
		st.embedded = nil // backups copy the disk store's contents only
	}
	return st, nil
}

func embeddedBlobs(e *embeddedStores) *disk.Store {
	if e == nil {
		return nil
	}
	return e.disk
}

// openPostgres opens the catalog and everything kept beside it.
func (st *stores) openPostgres(ctx context.Context, opt Options) error {
	pool, err := pgdb.Open(ctx, opt.Catalog)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, pool.Close)
	fail := func(err error) error { return fmt.Errorf("catalog %s: %w", pgdb.Redact(opt.Catalog), err) }
	catalog, err := postgres.New(ctx, pool)
	if err != nil {
		return fail(err)
	}
	st.catalog, st.stored = catalog, catalog.Stored
	if st.accounts, err = authpg.Open(ctx, pool); err != nil {
		return fail(err)
	}
	if st.attempts, err = pgthrottle.Open(ctx, pool); err != nil {
		return fail(err)
	}
	keys, err := pghostkeys.Open(ctx, pool)
	if err != nil {
		return fail(err)
	}
	st.hostKeys = func(ctx context.Context) ([]gossh.Signer, error) {
		return hostkeys.LoadOrCreateIn(ctx, keys, importedKinds(filepath.Join(opt.Data, "hostkeys")))
	}
	st.openSessions = func(ctx context.Context) error {
		c, err := pgsessions.Open(ctx, pool, pgsessions.Options{Instance: st.instance, Logger: opt.Logger})
		if err != nil {
			return fail(err)
		}
		st.sessions = c
		st.closers = append(st.closers, c.Close)
		return nil
	}
	st.ready = append(st.ready, metrics.Check{Name: "catalog", Ask: catalog.Ping})
	return nil
}

// importedKinds are the host key kinds whose new keys come from dir's key
// files where there are some: a server that joins a cluster with an empty
// catalog brings its identity along, so its users' known_hosts stay
// valid.
func importedKinds(dir string) []hostkeys.Kind {
	kinds := hostkeys.Kinds()
	for i, k := range kinds {
		generate := k.Generate
		typ := k.Type
		kinds[i].Generate = func() (crypto.Signer, error) {
			data, err := hostkeys.Dir(dir).Load(context.Background(), typ)
			if errors.Is(err, os.ErrNotExist) {
				return generate()
			}
			if err != nil {
				return nil, err
			}
			raw, err := gossh.ParseRawPrivateKey(data)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", dir, err)
			}
			if p, ok := raw.(*ed25519.PrivateKey); ok {
				raw = *p
			}
			s, ok := raw.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("import %s: not a signing key", dir)
			}
			return s, nil
		}
	}
	return kinds
}

// newInstanceID names this server process among those of a cluster: the
// host's name, for people reading logs, and a random part, since a
// restarted server is a new instance (its old uploads in flight are gone).
func newInstanceID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '-'
	}, host)
	if len(host) > 24 {
		host = host[:24]
	}
	b := make([]byte, 4)
	rand.Read(b)
	if host == "" {
		return hex.EncodeToString(b)
	}
	return host + "-" + hex.EncodeToString(b)
}
