package tui

import (
	"fmt"
	"sort"
	"testing"

	"github.com/sshelf/sshelf/files"
)

// fakeCatalog pages through an in-memory sorted list by name, as the
// service does, counting queries.
type fakeCatalog struct {
	all     []files.File
	queries int
}

func newFakeCatalog(n int) *fakeCatalog {
	c := &fakeCatalog{}
	for i := range n {
		c.all = append(c.all, files.File{Name: fmt.Sprintf("f%06d", i)})
	}
	return c
}

func (c *fakeCatalog) fetch(after *files.File, backward bool, limit int) ([]files.File, error) {
	c.queries++
	if !backward {
		i := 0
		if after != nil {
			i = sort.Search(len(c.all), func(i int) bool { return c.all[i].Name > after.Name })
		}
		return append([]files.File(nil), c.all[i:min(i+limit, len(c.all))]...), nil
	}
	j := len(c.all)
	if after != nil {
		j = sort.Search(len(c.all), func(i int) bool { return c.all[i].Name >= after.Name })
	}
	return append([]files.File(nil), c.all[max(j-limit, 0):j]...), nil
}

// Scrolling 100,000 files one row at a time stays on the right row, holds
// a bounded number of rows and costs one query per page, not per row.
func TestWindowScrolls100000(t *testing.T) {
	const n, height = 100000, 20
	c := newFakeCatalog(n)
	var w window
	if err := w.reset(c.fetch); err != nil {
		t.Fatal(err)
	}
	check := func(want int) {
		t.Helper()
		f := w.selected()
		if f == nil || f.Name != c.all[want].Name {
			t.Fatalf("selected %v, want %s", f, c.all[want].Name)
		}
		if len(w.rows) > keepRows+pageSize {
			t.Fatalf("%d rows held", len(w.rows))
		}
		if w.sel < w.top || w.sel >= w.top+height {
			t.Fatalf("selection %d off screen (top %d)", w.sel, w.top)
		}
	}
	for i := 1; i < n; i++ {
		if err := w.move(c.fetch, 1, height); err != nil {
			t.Fatal(err)
		}
		check(i)
	}
	if err := w.move(c.fetch, 1, height); err != nil {
		t.Fatal(err)
	}
	check(n - 1) // stays on the last row
	if c.queries > n/pageSize+5 {
		t.Errorf("%d queries for %d rows", c.queries, n)
	}

	c.queries = 0
	for i := n - 2; i >= 0; i -= height {
		if err := w.move(c.fetch, -height, height); err != nil {
			t.Fatal(err)
		}
		check(max(i-height+1, 0))
	}
	if c.queries > n/pageSize+5 {
		t.Errorf("%d queries paging up", c.queries)
	}

	if err := w.end(c.fetch, height); err != nil {
		t.Fatal(err)
	}
	check(n - 1)
	if err := w.reset(c.fetch); err != nil {
		t.Fatal(err)
	}
	check(0)
}

// After a change, reload keeps the selection on the same file, or on the
// next one when it is gone.
func TestWindowReload(t *testing.T) {
	c := newFakeCatalog(1000)
	var w window
	w.reset(c.fetch)
	w.move(c.fetch, 500, 20)
	anchor := *w.selected()
	w.reload(c.fetch, &anchor, 20)
	if w.selected().Name != anchor.Name {
		t.Fatalf("reload moved to %s", w.selected().Name)
	}
	c.all = append(c.all[:500], c.all[501:]...)
	w.reload(c.fetch, &anchor, 20)
	if got := w.selected().Name; got != "f000501" {
		t.Fatalf("after removal selected %s, want f000501", got)
	}
	// The row before is still reachable.
	w.move(c.fetch, -1, 20)
	if got := w.selected().Name; got != "f000499" {
		t.Fatalf("up from it: %s", got)
	}
}
