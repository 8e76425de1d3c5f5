package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sshelf/sshelf/files"
)

// ListPublic pages through public files in q's order by key: the files
// strictly after (or before) q.After in (sort key, name) order, as the SQL
// catalogs' sqlcat.Page selects them. It sorts on every call: a fuzz
// input's catalog is small.
func (c *Catalog) ListPublic(ctx context.Context, q files.ListQuery) ([]files.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Walk in the order asked: a backward page is taken in the reversed
	// order from q.After, then flipped into display order.
	order := byKey(q.Sort)
	if q.Desc != q.Backward {
		asc := order
		order = func(a, b files.File) int { return asc(b, a) }
	}
	filter := foldASCII(q.Filter)
	var out []files.File
	for _, r := range c.records {
		if r.Hidden || !strings.Contains(foldASCII(r.Name), filter) {
			continue // rule 1: hidden files are never listed
		}
		if q.After != nil && order(r.File, *q.After) <= 0 {
			continue
		}
		out = append(out, r.File)
	}
	slices.SortFunc(out, order)
	out = truncate(out, q.Limit)
	if q.Backward {
		slices.Reverse(out)
	}
	return out, nil
}

// byKey compares files in ascending order of k, names (as bytes)
// breaking ties. Only Name, Size and Uploaded count, as for q.After.
func byKey(k files.SortKey) func(a, b files.File) int {
	return func(a, b files.File) int {
		c := 0
		switch k {
		case files.SortBySize:
			c = cmp.Compare(a.Size, b.Size)
		case files.SortByUploaded:
			// The columns hold Unix nanoseconds.
			c = cmp.Compare(a.Uploaded.UnixNano(), b.Uploaded.UnixNano())
		}
		return cmp.Or(c, strings.Compare(a.Name, b.Name))
	}
}

// foldASCII lowers ASCII letters only, as SQLite's LIKE (and PostgreSQL's
// ILIKE under the "C" collation) match them in either case.
func foldASCII(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
