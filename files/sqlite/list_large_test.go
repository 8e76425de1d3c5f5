//go:build !race

// The race detector slows the pure-Go SQLite a hundredfold; this test is
// about the cost of paging, which the race build cannot measure anyway.

package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/filestest"
)

// 100,000 files page by size without loading them all.
func TestListSorted100000(t *testing.T) {
	if testing.Short() {
		t.Skip("large catalog")
	}
	c, public := sortedCatalog(t, 100000, func(i int) string { return fmt.Sprintf("file-%06d", i) })
	ctx := context.Background()
	q := files.ListQuery{Sort: files.SortBySize, Desc: true, Limit: 1000}
	n := 0
	var last *files.File
	for range 200 {
		page, err := c.ListPublic(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range page {
			if last != nil && filestest.Order(files.SortBySize, true)(*last, page[i]) >= 0 {
				t.Fatalf("out of order: %v then %v", *last, page[i])
			}
			last = &page[i]
		}
		n += len(page)
		if len(page) < q.Limit {
			break
		}
		q.After = last
	}
	if n != len(public) {
		t.Fatalf("walked %d rows, want %d", n, len(public))
	}
}
