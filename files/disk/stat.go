package disk

import (
	"context"
	"fmt"
	"os"

	"github.com/sshelf/sshelf/files"
)

// Stat describes a committed blob; a missing one is an fs.ErrNotExist.
func (b *Store) Stat(ctx context.Context, key string) (files.BlobInfo, error) {
	p, err := b.Path(key)
	if err != nil {
		return files.BlobInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return files.BlobInfo{}, fmt.Errorf("stat blob %s: %w", key, err)
	}
	// The commit is a rename, which sets the change time but not the
	// modification time: an upload written an hour ago and committed now
	// is new.
	changed := fi.ModTime()
	if c := changeTime(fi); c.After(changed) {
		changed = c
	}
	return files.BlobInfo{Size: fi.Size(), Changed: changed}, nil
}
