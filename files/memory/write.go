package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/sshelf/sshelf/files"
)

// errBlobInUse is the SQL catalogs' UNIQUE constraint on a record's blob:
// two records never share content, so dropping one never removes the
// other's.
var errBlobInUse = errors.New("blob already belongs to another record")

// link adds r, keeping the blob index and the owner's usage.
func (c *Catalog) link(r files.Record) {
	c.records[r.Name] = r
	c.blobs[r.Blob] = r.Name
	c.addUsage(r.Owner, r.Size)
}

// unlink removes r, the record stored under r.Name.
func (c *Catalog) unlink(r files.Record) {
	delete(c.records, r.Name)
	delete(c.blobs, r.Blob)
	c.addUsage(r.Owner, -r.Size)
}

// addUsage adds n bytes to owner's usage; an owner at zero is forgotten,
// so the map holds only owners with bytes.
func (c *Catalog) addUsage(owner string, n int64) {
	if u := c.usage[owner] + n; u != 0 {
		c.usage[owner] = u
	} else {
		delete(c.usage, owner)
	}
}

// blobFree refuses blob if a record other than name's refers to it.
func (c *Catalog) blobFree(blob, name string) error {
	if other, ok := c.blobs[blob]; ok && other != name {
		return fmt.Errorf("%w: %s is %q's", errBlobInUse, blob, other)
	}
	return nil
}

// existing returns a copy of the record named name, or nil.
func (c *Catalog) existing(name string) *files.Record {
	r, ok := c.records[name]
	if !ok {
		return nil
	}
	return &r
}

// Put stores rec, replacing a record of the same name if check allows.
func (c *Catalog) Put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	replaced, err := c.put(ctx, stored(rec), check)
	if err != nil {
		return nil, fmt.Errorf("catalog put %q: %w", rec.Name, err)
	}
	return replaced, nil
}

func (c *Catalog) put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// check gets a copy, which Put returns, as SQLite's does.
	old := c.existing(rec.Name)
	if err := check(old, c.usage[rec.Owner]); err != nil {
		return nil, err
	}
	if err := c.blobFree(rec.Blob, rec.Name); err != nil {
		return nil, err
	}
	if prev, ok := c.records[rec.Name]; ok {
		if prev.Blob != rec.Blob {
			c.drop(prev.Blob)
		}
		c.unlink(prev)
	}
	c.link(rec)
	return old, nil
}

// Update applies fn to a copy of the record named name and stores the
// result under that name.
func (c *Catalog) Update(ctx context.Context, name string, fn func(*files.Record) error) error {
	if err := c.update(ctx, name, fn); err != nil {
		return fmt.Errorf("catalog update %q: %w", name, err)
	}
	return nil
}

func (c *Catalog) update(ctx context.Context, name string, fn func(*files.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, ok := c.records[name]
	if !ok {
		return files.ErrNotFound
	}
	r := prev
	if err := fn(&r); err != nil {
		return err
	}
	r.Name = name
	r = stored(r)
	if err := c.blobFree(r.Blob, name); err != nil {
		return err
	}
	if r.Blob != prev.Blob {
		c.drop(prev.Blob)
	}
	c.unlink(prev)
	c.link(r)
	return nil
}

// Delete removes the record named name if check allows.
func (c *Catalog) Delete(ctx context.Context, name string, check func(files.Record) error) (files.Record, error) {
	r, err := c.delete(ctx, name, check)
	if err != nil {
		return files.Record{}, fmt.Errorf("catalog delete %q: %w", name, err)
	}
	return r, nil
}

func (c *Catalog) delete(ctx context.Context, name string, check func(files.Record) error) (files.Record, error) {
	if err := ctx.Err(); err != nil {
		return files.Record{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.records[name]
	if !ok {
		return files.Record{}, files.ErrNotFound
	}
	if err := check(r); err != nil {
		return files.Record{}, err
	}
	c.drop(r.Blob)
	c.unlink(r)
	return r, nil
}

// Rename moves a record from one name to another if check allows.
func (c *Catalog) Rename(ctx context.Context, from, to string, check func(files.Record, *files.Record) error) (*files.Record, error) {
	replaced, err := c.rename(ctx, from, to, check)
	if err != nil {
		return nil, fmt.Errorf("catalog rename %q to %q: %w", from, to, err)
	}
	return replaced, nil
}

func (c *Catalog) rename(ctx context.Context, from, to string, check func(files.Record, *files.Record) error) (*files.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	src, ok := c.records[from]
	if !ok {
		return nil, files.ErrNotFound
	}
	// Onto itself, check sees the record as both source and destination
	// (copies of it), and nothing changes.
	dst := c.existing(to)
	if err := check(src, dst); err != nil {
		return nil, err
	}
	if from == to {
		return nil, nil
	}
	if prev, ok := c.records[to]; ok {
		c.drop(prev.Blob)
		c.unlink(prev)
	}
	c.unlink(src)
	src.Name = to
	c.link(src)
	return dst, nil
}
