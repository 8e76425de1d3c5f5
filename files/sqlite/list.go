package sqlite

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
// strictly after (or before) q.After in (sort column, name) order.
func (c *Catalog) ListPublic(ctx context.Context, q files.ListQuery) ([]files.File, error) {
	col := sortColumn(q.Sort)
	keys := "name"
	if col != "" {
		keys = "(" + col + ", name)"
	}
	// Walking backward is walking the reversed order forward, then
	// flipping the page back into display order.
	desc := q.Desc != q.Backward
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}

	where := []string{"hidden = 0"}
	var args []any
	if q.Filter != "" {
		where = append(where, `name LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(q.Filter)+"%")
	}
	if a := q.After; a != nil {
		switch col {
		case "":
			where = append(where, "name "+cmp+" ?")
			args = append(args, a.Name)
		case "size":
			where = append(where, keys+" "+cmp+" (?, ?)")
			args = append(args, a.Size, a.Name)
		default:
			where = append(where, keys+" "+cmp+" (?, ?)")
			args = append(args, a.Uploaded.UnixNano(), a.Name)
		}
	}
	order := "name " + dir
	if col != "" {
		order = col + " " + dir + ", name " + dir
	}
	query := `SELECT ` + recordColumns + ` FROM files WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, q.Limit)

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
