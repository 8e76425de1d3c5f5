package files

import "sort"

// maxRanges bounds how fragmented an upload's writes may be before the
// next write that leaves a new gap is refused: writes arrive a little out
// of order, never scattered, from a real client.
const maxRanges = 4096

// byteRanges is the set of byte ranges written to an upload, as sorted,
// disjoint, non-adjacent [start, end) pairs. An SFTP upload may write at
// any offset; a commit must not store bytes the client never sent.
type byteRanges struct {
	r [][2]int64
}

// add marks [start, end) as written.
func (b *byteRanges) add(start, end int64) error {
	if start >= end {
		return nil
	}
	// Fast path: the common sequential write extends the last range.
	if n := len(b.r); n > 0 && b.r[n-1][0] <= start && start <= b.r[n-1][1] {
		b.r[n-1][1] = max(b.r[n-1][1], end)
		return nil
	}
	// First range ending at or after start: it may touch [start, end).
	i := sort.Search(len(b.r), func(i int) bool { return b.r[i][1] >= start })
	j := i
	for j < len(b.r) && b.r[j][0] <= end {
		start, end = min(start, b.r[j][0]), max(end, b.r[j][1])
		j++
	}
	if i == j && len(b.r) >= maxRanges {
		return ErrFragmented
	}
	b.r = append(b.r[:i], append([][2]int64{{start, end}}, b.r[j:]...)...)
	return nil
}

// cut forgets everything at or after size, for a truncation.
func (b *byteRanges) cut(size int64) {
	i := sort.Search(len(b.r), func(i int) bool { return b.r[i][1] > size })
	if i < len(b.r) && b.r[i][0] < size {
		b.r[i][1] = size
		i++
	}
	b.r = b.r[:i]
}

// covers reports whether [0, size) was written whole.
func (b *byteRanges) covers(size int64) bool {
	if size == 0 {
		return true
	}
	return len(b.r) > 0 && b.r[0][0] == 0 && b.r[0][1] >= size
}

// gaps calls fn with each range of [0, size) not written, in order.
func (b *byteRanges) gaps(size int64, fn func(start, end int64) error) error {
	at := int64(0)
	for _, r := range b.r {
		if at >= size {
			return nil
		}
		if r[0] > at {
			if err := fn(at, min(r[0], size)); err != nil {
				return err
			}
		}
		at = max(at, r[1])
	}
	if at < size {
		return fn(at, size)
	}
	return nil
}
