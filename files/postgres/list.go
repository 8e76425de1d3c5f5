package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/internal/sqlcat"
)

// pageSQL is PostgreSQL's: ILIKE under the columns' "C" collation folds
// ASCII letters only, as SQLite's LIKE does.
var pageSQL = sqlcat.Dialect{
	NotHidden: "NOT hidden",
	Like:      "ILIKE",
	Arg:       func(n int) string { return fmt.Sprintf("$%d", n) },
	Limit:     limitArg,
}

// ListPublic pages through public files in q's order by key: the rows
// strictly after (or before) q.After in (sort column, name) order, read
// from the index of that order.
func (c *Catalog) ListPublic(ctx context.Context, q files.ListQuery) ([]files.File, error) {
	if !storable(q.Filter) {
		return nil, nil // no stored name contains it
	}
	if a := q.After; a != nil && !storable(a.Name) {
		return nil, fmt.Errorf("list after %q: %w", a.Name, errUnstorable)
	}
	page, args := sqlcat.Page(pageSQL, q)
	query := `SELECT ` + recordColumns + ` FROM files ` + page
	recs, err := c.records(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var out []files.File
	for _, r := range recs {
		out = append(out, r.File)
	}
	if q.Backward {
		slices.Reverse(out)
	}
	return out, nil
}
