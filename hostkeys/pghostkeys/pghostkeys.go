// Package pghostkeys keeps the host keys in the PostgreSQL catalog, so
// that every server of a cluster presents the same ones and known_hosts
// holds whichever instance the balancer picks.
package pghostkeys

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/internal/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a hostkeys.Store in the host_keys table.
type Store struct {
	pool *pgxpool.Pool
}

var _ hostkeys.Store = (*Store)(nil)

// Open brings the host_keys table in pool's database up to date
// (migrations component "hostkeys") and returns the store.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	steps, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("host keys schema: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, "hostkeys", steps); err != nil {
		return nil, fmt.Errorf("host keys schema: %w", err)
	}
	return &Store{pool: pool}, nil
}

func (s *Store) String() string { return "the catalog" }

// Load returns the key of type typ.
func (s *Store) Load(ctx context.Context, typ string) ([]byte, error) {
	var key string
	err := s.pool.QueryRow(ctx, `SELECT private_key FROM host_keys WHERE type = $1`, typ).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("no key of type %s: %w", typ, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	return []byte(key), nil
}

// Add keeps key unless a key of type typ is kept, then reads back the one
// kept. The read is a statement of its own: under READ COMMITTED it sees
// the key of a server whose insert won while this one waited for it.
func (s *Store) Add(ctx context.Context, typ string, key []byte) ([]byte, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO host_keys (type, private_key) VALUES ($1, $2)
		ON CONFLICT (type) DO NOTHING`, typ, string(key)); err != nil {
		return nil, err
	}
	kept, err := s.Load(ctx, typ)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the key of type %s vanished after it was added", typ)
	}
	return kept, err
}
