package sqlite

import (
	"context"
	"fmt"
)

// Stored returns how many files the catalog holds and their total size,
// for the metrics: the bytes from the per-owner totals the triggers keep,
// the count from the primary key.
func (c *Catalog) Stored(ctx context.Context) (count, bytes int64, err error) {
	err = c.db.QueryRowContext(ctx,
		`SELECT (SELECT COUNT(*) FROM files), (SELECT COALESCE(SUM(bytes), 0) FROM file_usage)`).Scan(&count, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("stored files: %w", err)
	}
	return count, bytes, nil
}
