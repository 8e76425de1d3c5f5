package sqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/internal/sqlcat"
)

// pageSQL is SQLite's.
var pageSQL = sqlcat.Dialect{
	NotHidden: "hidden = 0",
	Like:      "LIKE",
	Arg:       func(int) string { return "?" },
	Limit:     func(limit int) any { return limit },
}

// ListPublic pages through public files in q's order by key: the rows
// strictly after (or before) q.After in (sort column, name) order.
func (c *Catalog) ListPublic(ctx context.Context, q files.ListQuery) ([]files.File, error) {
	page, args := sqlcat.Page(pageSQL, q)
	query := `SELECT ` + recordColumns + ` FROM files ` + page
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []files.File
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		out = append(out, r.File)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if q.Backward {
		slices.Reverse(out)
	}
	return out, nil
}
