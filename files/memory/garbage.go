package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// drop puts the blob of a record being replaced or deleted on the garbage
// list, stamped with the real clock as the SQL catalogs do. A blob already
// listed keeps its first time.
func (c *Catalog) drop(blob string) {
	if _, ok := c.garbage[blob]; !ok {
		c.garbage[blob] = time.Now().UnixNano()
	}
}

// Garbage lists up to limit blobs dropped at or before before, oldest
// first; blobs dropped in the same nanosecond come in key order, as the
// SQL catalogs' index gives them. A negative limit is none.
func (c *Catalog) Garbage(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("catalog garbage: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	type entry struct {
		key     string
		dropped int64
	}
	t := before.UnixNano()
	var due []entry
	for key, dropped := range c.garbage {
		if dropped <= t {
			due = append(due, entry{key, dropped})
		}
	}
	slices.SortFunc(due, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.dropped, b.dropped), cmp.Compare(a.key, b.key))
	})
	due = truncate(due, limit)
	var keys []string
	for _, e := range due {
		keys = append(keys, e.key)
	}
	return keys, nil
}

// Collected takes key off the garbage list; a key not on it is no error.
func (c *Catalog) Collected(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("catalog collected %s: %w", key, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.garbage, key)
	return nil
}

// ForgetGarbage empties the garbage list, for a copy of the catalog whose
// store holds none of those blobs (a backup), as the SQL catalogs' does.
func (c *Catalog) ForgetGarbage(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("catalog forget garbage: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.garbage)
	return nil
}
