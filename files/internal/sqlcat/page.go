// Package sqlcat is what the SQL catalogs (SQLite, PostgreSQL) share: the
// columns of a record and how a row becomes one, and the SQL of one page of
// public files (ListPublic): the filter, the key the page starts after, the
// order, the limit.
package sqlcat

import (
	"fmt"
	"strings"

	"github.com/sshelf/sshelf/files"
)

// Dialect is what one database spells its own way.
type Dialect struct {
	NotHidden string // the condition "not hidden": "hidden = 0", "NOT hidden"
	// Like is the operator that matches a pattern folding ASCII letters
	// only: SQLite's LIKE, PostgreSQL's ILIKE under the "C" collation.
	Like string
	// Arg returns the placeholder of the n-th argument (from 1).
	Arg func(n int) string
	// Limit is the LIMIT argument for limit.
	Limit func(limit int) any
}

// Page returns the WHERE, ORDER BY and LIMIT clauses of q's page, with
// their arguments, in the order q asks to walk: a backward page comes in
// the reversed order, and the caller flips it back into display order.
// Each order has its own index, so a page reads an index range.
func Page(d Dialect, q files.ListQuery) (clauses string, args []any) {
	arg := func(v any) string {
		args = append(args, v)
		return d.Arg(len(args))
	}
	col := sortColumn(q.Sort)
	desc := q.Desc != q.Backward
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	where := []string{d.NotHidden}
	if q.Filter != "" {
		where = append(where, "name "+d.Like+" "+arg("%"+escapeLike(q.Filter)+"%")+` ESCAPE '\'`)
	}
	if a := q.After; a != nil {
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
	return fmt.Sprintf("WHERE %s ORDER BY %s LIMIT %s", strings.Join(where, " AND "), order, arg(d.Limit(q.Limit))), args
}

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
