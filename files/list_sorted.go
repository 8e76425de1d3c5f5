package files

import "context"

// SortKey is the order of a sorted listing. Ties are broken by name, so
// every order is total and a listing can page by the last row it showed.
type SortKey int

const (
	SortByName SortKey = iota
	SortBySize
	SortByUploaded
)

// String names the key as a user reads it.
func (k SortKey) String() string {
	switch k {
	case SortBySize:
		return "size"
	case SortByUploaded:
		return "date"
	default:
		return "name"
	}
}

// ListQuery asks for one page of a sorted, filtered listing of public files.
// Paging is by key, not offset, so a page costs the same at row 100,000 as
// at row 0 and rows added or removed meanwhile shift nothing.
type ListQuery struct {
	Sort SortKey
	Desc bool
	// Filter keeps names containing it (ASCII letters match either case).
	Filter string
	// After, if set, is the row the page continues from: the page holds
	// the rows after it in the order, or before it when Backward is set.
	// Only its Name, Size and Uploaded are used.
	After    *File
	Backward bool
	Limit    int
}

// maxPage bounds one page, as List does.
const maxPage = 10000

// ListSorted returns one page of public files in q's order (rule 1: hidden
// files are never listed, not even to their owner). The page is always in
// display order, also when paging backward.
func (s *Service) ListSorted(ctx context.Context, user string, q ListQuery) ([]File, error) {
	if q.Limit <= 0 || q.Limit > maxPage {
		q.Limit = maxPage
	}
	page, err := s.catalog.ListPublic(ctx, q)
	return withholdHashes(page, user), err // rule 3, as List
}
