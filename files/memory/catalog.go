// Package memory is a files.Catalog in memory, for tests and fuzzing:
// keeps nothing across restarts. It mirrors the SQLite catalog
// (files/sqlite) without a database, whose cost (and, built with fuzz
// instrumentation, its slowness) a fuzz input should not pay.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sshelf/sshelf/files"
)

// Catalog is the catalog in memory. One mutex makes every method atomic,
// as the SQL catalogs' transactions do; the checks run under it, so a
// check must not call the catalog.
type Catalog struct {
	mu      sync.Mutex
	records map[string]files.Record // by name, as read back (see stored)
	blobs   map[string]string       // blob key to the name of its record
	usage   map[string]int64        // owner to bytes, as SQLite's file_usage
	garbage map[string]int64        // dropped blob key to unix nanoseconds
}

var _ files.Catalog = (*Catalog)(nil)

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{
		records: make(map[string]files.Record),
		blobs:   make(map[string]string),
		usage:   make(map[string]int64),
		garbage: make(map[string]int64),
	}
}

// stored is r as the SQL catalogs read it back: Protected follows the
// password hash (it is no column), and the upload time keeps its Unix
// nanoseconds in UTC, without a monotonic reading or a location.
func stored(r files.Record) files.Record {
	r.Protected = r.PasswordHash != ""
	r.Uploaded = time.Unix(0, r.Uploaded.UnixNano()).UTC()
	return r
}

// Lookup returns the record named name, or files.ErrNotFound itself
// (callers compare with ==).
func (c *Catalog) Lookup(ctx context.Context, name string) (files.Record, error) {
	if err := ctx.Err(); err != nil {
		return files.Record{}, fmt.Errorf("catalog lookup %q: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.records[name]
	if !ok {
		return files.Record{}, files.ErrNotFound
	}
	return r, nil
}

// Usage returns the bytes owner's files hold.
func (c *Catalog) Usage(ctx context.Context, owner string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("catalog usage of %q: %w", owner, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage[owner], nil
}

// OwnedBy lists the names of owner's files, in byte order.
func (c *Catalog) OwnedBy(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("catalog files of %q: %w", owner, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for name, r := range c.records {
		if r.Owner == owner {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// HasBlob reports whether a record refers to key or key is on the
// garbage list.
func (c *Catalog) HasBlob(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("catalog has blob %s: %w", key, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, used := c.blobs[key]
	_, dropped := c.garbage[key]
	return used || dropped, nil
}

// Records pages through every record, hidden ones included, by name.
// A negative limit is none, as SQLite's LIMIT.
func (c *Catalog) Records(ctx context.Context, after string, limit int) ([]files.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("catalog records: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []files.Record
	for name, r := range c.records {
		if name > after {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b files.Record) int { return strings.Compare(a.Name, b.Name) })
	return truncate(out, limit), nil
}

// Stored returns how many files the catalog holds and their total size,
// as the SQL catalogs' Stored does for the metrics.
func (c *Catalog) Stored(ctx context.Context) (count, bytes int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("stored files: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.usage {
		bytes += n
	}
	return int64(len(c.records)), bytes, nil
}

// truncate applies a LIMIT: a negative one is none, as on SQLite; an
// empty result is nil, as the SQL catalogs return it.
func truncate[T any](s []T, limit int) []T {
	if limit >= 0 && len(s) > limit {
		s = s[:limit]
	}
	if len(s) == 0 {
		return nil
	}
	return s
}
