package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sshelf/sshelf/files"
)

// sortColumn is the column that orders rows for k; name breaks ties.
func sortColumn(k files.SortKey) string {
	switch k {
	case files.SortBySize:
		return "size"
	case files.SortByUploaded:
		return "uploaded"
	default:
		return ""
	}
}

// escapeLike makes s match itself literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListPublic pages through public files in q's order by key: the rows
// strictly after (or before) q.After in (sort column, name) order, read
// from the index of that order.
func (c *Catalog) ListPublic(ctx context.Context, q files.ListQuery) ([]files.File, error) {
	if !storable(q.Filter) {
		return nil, nil // no stored name contains it
	}
	col := sortColumn(q.Sort)
	// Walking backward is walking the reversed order forward, then
	// flipping the page back into display order.
	desc := q.Desc != q.Backward
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	where := []string{"NOT hidden"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Filter != "" {
		// ILIKE under the column's "C" collation folds ASCII letters
		// only, as SQLite's LIKE does.
		where = append(where, `name ILIKE `+arg("%"+escapeLike(q.Filter)+"%")+` ESCAPE '\'`)
	}
	if a := q.After; a != nil {
		if !storable(a.Name) {
			return nil, fmt.Errorf("list after %q: %w", a.Name, errUnstorable)
		}
		switch col {
		case "":
			where = append(where, "name "+cmp+" "+arg(a.Name))
		case "size":
			where = append(where, "(size, name) "+cmp+" ("+arg(a.Size)+", "+arg(a.Name)+")")
		default:
			where = append(where, "(uploaded, name) "+cmp+" ("+arg(a.Uploaded.UnixNano())+", "+arg(a.Name)+")")
		}
	}
	order := "name " + dir
	if col != "" {
		order = col + " " + dir + ", name " + dir
	}
	query := `SELECT ` + recordColumns + ` FROM files WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + arg(limitArg(q.Limit))
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
