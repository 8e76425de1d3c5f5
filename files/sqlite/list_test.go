package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/sqlitedb"

	"github.com/sshelf/sshelf/files"
)

// sortedCatalog returns a catalog holding n records, every third hidden,
// inserted in one transaction (the test is about reading).
func sortedCatalog(t *testing.T, n int, name func(i int) string) (*Catalog, []files.File) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var public []files.File
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err = c.tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			r := files.Record{File: files.File{
				Name: name(i), Owner: "o", Size: int64((i * 7919) % 50), // many equal sizes
				Hidden: i%3 == 0, SHA256: "00", Uploaded: base.Add(time.Duration((i*104729)%97) * time.Second),
			}, Blob: fmt.Sprint("b", i)}
			if err := upsert(ctx, tx, r); err != nil {
				return err
			}
			if !r.Hidden {
				public = append(public, r.File)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, public
}

func order(k files.SortKey, desc bool) func(a, b files.File) int {
	return func(a, b files.File) int {
		c := 0
		switch k {
		case files.SortBySize:
			c = cmp.Compare(a.Size, b.Size)
		case files.SortByUploaded:
			c = a.Uploaded.Compare(b.Uploaded)
		}
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		}
		if desc {
			c = -c
		}
		return c
	}
}

// Paging forward and backward by key, in every order, yields exactly the
// public files in that order.
func TestListSortedPagesEveryOrder(t *testing.T) {
	c, public := sortedCatalog(t, 300, func(i int) string { return fmt.Sprintf("n%03d", (i*37)%300) })
	ctx := context.Background()
	for _, k := range []files.SortKey{files.SortByName, files.SortBySize, files.SortByUploaded} {
		for _, desc := range []bool{false, true} {
			want := slices.SortedFunc(slices.Values(public), order(k, desc))
			var got []files.File
			q := files.ListQuery{Sort: k, Desc: desc, Limit: 7}
			for range 100 {
				page, err := c.ListPublic(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if len(page) < q.Limit {
					break
				}
				q.After = &page[len(page)-1]
			}
			if !slices.EqualFunc(got, want, func(a, b files.File) bool { return a.Name == b.Name }) {
				t.Fatalf("%v desc=%v forward: %d rows, want %d", k, desc, len(got), len(want))
			}
			// Backward from the end, pages come in display order.
			got = nil
			q = files.ListQuery{Sort: k, Desc: desc, Limit: 7, Backward: true}
			for range 100 {
				page, err := c.ListPublic(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(page, got...)
				if len(page) < q.Limit {
					break
				}
				q.After = &page[0]
			}
			if !slices.EqualFunc(got, want, func(a, b files.File) bool { return a.Name == b.Name }) {
				t.Fatalf("%v desc=%v backward: %d rows, want %d", k, desc, len(got), len(want))
			}
		}
	}
}

func TestListSortedFilter(t *testing.T) {
	names := []string{"Report.pdf", "report_2.txt", "50%off", "a_b", "axb", "photo"}
	c, _ := sortedCatalog(t, len(names), func(i int) string { return names[i] })
	ctx := context.Background()
	// Hidden: names[0] and names[3].
	for filter, want := range map[string][]string{
		"REPORT": {"report_2.txt"},
		"%":      {"50%off"},
		"_":      {"report_2.txt"},
		"a_b":    nil, // a hidden file is never found
		"x":      {"axb", "report_2.txt"},
	} {
		page, err := c.ListPublic(ctx, files.ListQuery{Filter: filter, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range page {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", filter, got, want)
		}
	}
}
