package tui

import "github.com/sshelf/sshelf/files"

// Paging: the list never holds the whole catalog. It keeps a contiguous
// slice of the current order (at most keepRows), extends it a page at a
// time by key as the selection nears either end, and drops rows far from
// the selection, so scrolling through 100,000 files costs one small
// indexed query per pageSize rows.
const (
	pageSize       = 100
	keepRows       = 600
	prefetchMargin = 40
	// maxFetchesPerMove bounds the queries one key press may cause.
	maxFetchesPerMove = 8
)

// fetchFunc returns up to limit rows after (or, if backward, before) the
// row after in the current order, in display order; after nil means from
// the start (or the end).
type fetchFunc func(after *files.File, backward bool, limit int) ([]files.File, error)

// window is the loaded part of the listing and the selection in it.
type window struct {
	rows    []files.File
	atStart bool // rows[0] is the first row of the order
	atEnd   bool // the last row is the last of the order
	sel     int  // selected index into rows
	top     int  // index of the first row on screen
}

func (w *window) selected() *files.File {
	if w.sel < 0 || w.sel >= len(w.rows) {
		return nil
	}
	return &w.rows[w.sel]
}

// reset loads the first page.
func (w *window) reset(fetch fetchFunc) error {
	page, err := fetch(nil, false, pageSize)
	if err != nil {
		return err
	}
	*w = window{rows: page, atStart: true, atEnd: len(page) < pageSize}
	return nil
}

// end loads the last page and selects its last row.
func (w *window) end(fetch fetchFunc, height int) error {
	page, err := fetch(nil, true, pageSize)
	if err != nil {
		return err
	}
	*w = window{rows: page, atStart: len(page) < pageSize, atEnd: true, sel: max(len(page)-1, 0)}
	w.scrollTo(height)
	return nil
}

// reload reloads around anchor after a change, keeping the selection on
// it, or on the row that followed it if it is gone, at the same screen line.
func (w *window) reload(fetch fetchFunc, anchor *files.File, height int) error {
	if anchor == nil {
		return w.reset(fetch)
	}
	line := w.sel - w.top
	back, err := fetch(anchor, true, pageSize)
	if err != nil {
		return err
	}
	var from *files.File
	if len(back) > 0 {
		from = &back[len(back)-1]
	}
	fwd, err := fetch(from, false, pageSize)
	if err != nil {
		return err
	}
	rows := append(back, fwd...)
	sel := min(len(back), max(len(rows)-1, 0))
	*w = window{rows: rows, atStart: len(back) < pageSize, atEnd: len(fwd) < pageSize, sel: sel, top: max(sel-line, 0)}
	w.scrollTo(height)
	return nil
}

// move moves the selection by delta rows, loading pages as needed.
func (w *window) move(fetch fetchFunc, delta, height int) error {
	target := w.sel + delta
	for i := 0; i < maxFetchesPerMove && target >= len(w.rows) && !w.atEnd; i++ {
		if err := w.extendEnd(fetch); err != nil {
			return err
		}
	}
	for i := 0; i < maxFetchesPerMove && target < 0 && !w.atStart; i++ {
		n, err := w.extendStart(fetch)
		if err != nil {
			return err
		}
		target += n
	}
	w.sel = max(min(target, len(w.rows)-1), 0)
	// Load the next page before the user reaches it, so holding a key
	// down never waits at a page boundary.
	if !w.atEnd && len(w.rows)-w.sel < prefetchMargin {
		if err := w.extendEnd(fetch); err != nil {
			return err
		}
	}
	if !w.atStart && w.sel < prefetchMargin {
		if _, err := w.extendStart(fetch); err != nil {
			return err
		}
	}
	w.trim()
	w.scrollTo(height)
	return nil
}

func (w *window) extendEnd(fetch fetchFunc) error {
	var after *files.File
	if len(w.rows) > 0 {
		after = &w.rows[len(w.rows)-1]
	}
	page, err := fetch(after, false, pageSize)
	if err != nil {
		return err
	}
	w.rows = append(w.rows, page...)
	w.atEnd = len(page) < pageSize
	return nil
}

// extendStart prepends a page and returns how many rows it added.
func (w *window) extendStart(fetch fetchFunc) (int, error) {
	if len(w.rows) == 0 {
		return 0, w.reset(fetch)
	}
	page, err := fetch(&w.rows[0], true, pageSize)
	if err != nil {
		return 0, err
	}
	w.rows = append(page, w.rows...)
	w.sel += len(page)
	w.top += len(page)
	w.atStart = len(page) < pageSize
	return len(page), nil
}

// trim drops the rows farthest from the selection beyond keepRows.
func (w *window) trim() {
	extra := len(w.rows) - keepRows
	if extra <= 0 {
		return
	}
	if w.sel >= len(w.rows)/2 {
		w.rows = append([]files.File(nil), w.rows[extra:]...)
		w.sel -= extra
		w.top = max(w.top-extra, 0)
		w.atStart = false
		return
	}
	w.rows = w.rows[:keepRows:keepRows]
	w.atEnd = false
}

// scrollTo moves the screen so the selection is on it.
func (w *window) scrollTo(height int) {
	height = max(height, 1)
	if w.sel < w.top {
		w.top = w.sel
	}
	if w.sel >= w.top+height {
		w.top = w.sel - height + 1
	}
	w.top = max(min(w.top, len(w.rows)-height), 0)
}

// visible returns the rows on screen.
func (w *window) visible(height int) []files.File {
	end := min(w.top+max(height, 0), len(w.rows))
	if w.top >= end {
		return nil
	}
	return w.rows[w.top:end]
}
