package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sshelf/sshelf/auth"
)

// AddKey registers key for name's account; the foreign key refuses an
// account that does not exist.
func (s *Store) AddKey(ctx context.Context, name string, key auth.Key) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO account_keys (name, key, line) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, name, key.Blob, key.Line)
	if err != nil {
		return fmt.Errorf("add key of %q: %w", name, err)
	}
	return nil
}

// Keys returns name's keys ordered by blob (bytea sorts bytewise).
func (s *Store) Keys(ctx context.Context, name string) ([]auth.Key, error) {
	rows, _ := s.pool.Query(ctx, `SELECT key, line FROM account_keys WHERE name = $1 ORDER BY key`, name)
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Key, error) {
		var k auth.Key
		err := r.Scan(&k.Blob, &k.Line)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("keys of %q: %w", name, err)
	}
	return keys, nil
}

// HasKey reports whether blob is registered for name.
func (s *Store) HasKey(ctx context.Context, name string, blob []byte) (bool, error) {
	var has bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM account_keys WHERE name = $1 AND key = $2)`,
		name, blob).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("key of %q: %w", name, err)
	}
	return has, nil
}

// DeleteKey removes one of name's keys.
func (s *Store) DeleteKey(ctx context.Context, name string, blob []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM account_keys WHERE name = $1 AND key = $2`, name, blob)
	if err != nil {
		return false, fmt.Errorf("delete key of %q: %w", name, err)
	}
	return tag.RowsAffected() > 0, nil
}
