package sqlite

import (
	"context"
	"fmt"

	"github.com/sshelf/sshelf/auth"
)

// AddKey registers key for name's account; the foreign key refuses an
// account that does not exist.
func (s *Store) AddKey(ctx context.Context, name string, key auth.Key) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO account_keys (name, key, line) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, name, key.Blob, key.Line)
	if err != nil {
		return fmt.Errorf("add key of %q: %w", name, err)
	}
	return nil
}

// Keys returns name's keys ordered by blob (the primary key's order).
func (s *Store) Keys(ctx context.Context, name string) ([]auth.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, line FROM account_keys WHERE name = ? ORDER BY key`, name)
	if err != nil {
		return nil, fmt.Errorf("keys of %q: %w", name, err)
	}
	defer rows.Close()
	var keys []auth.Key
	for rows.Next() {
		var k auth.Key
		if err := rows.Scan(&k.Blob, &k.Line); err != nil {
			return nil, fmt.Errorf("keys of %q: %w", name, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys of %q: %w", name, err)
	}
	return keys, nil
}

// HasKey reports whether blob is registered for name.
func (s *Store) HasKey(ctx context.Context, name string, blob []byte) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_keys WHERE name = ? AND key = ?`, name, blob).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("key of %q: %w", name, err)
	}
	return n > 0, nil
}

// DeleteKey removes one of name's keys.
func (s *Store) DeleteKey(ctx context.Context, name string, blob []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM account_keys WHERE name = ? AND key = ?`, name, blob)
	if err != nil {
		return false, fmt.Errorf("delete key of %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete key of %q: %w", name, err)
	}
	return n > 0, nil
}
