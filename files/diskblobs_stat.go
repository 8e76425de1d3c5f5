package files

import (
	"context"
	"fmt"
	"os"
	"time"
)

// BlobInfo is what a store knows of a committed blob without reading it.
type BlobInfo struct {
	Size int64
	// Changed is when the blob was last written or committed: an orphan
	// younger than a grace period may be a commit whose record is on its
	// way (see Check).
	Changed time.Time
}

// Stat describes a committed blob; a missing one is an fs.ErrNotExist.
func (b *DiskBlobs) Stat(ctx context.Context, key string) (BlobInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return BlobInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return BlobInfo{}, fmt.Errorf("stat blob %s: %w", key, err)
	}
	// The commit is a rename, which sets the change time but not the
	// modification time: an upload written an hour ago and committed now
	// is new.
	changed := fi.ModTime()
	if c := changeTime(fi); c.After(changed) {
		changed = c
	}
	return BlobInfo{Size: fi.Size(), Changed: changed}, nil
}
