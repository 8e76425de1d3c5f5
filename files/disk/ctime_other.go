//go:build !linux

package disk

import (
	"io/fs"
	"time"
)

// changeTime falls back to the modification time where the change time is
// not at hand the same way.
func changeTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
