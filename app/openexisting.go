package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// OpenExisting is Open for the commands other than serve (user, check,
// backup): a data directory that does not exist is refused, not created,
// so a mistyped --data or the wrong working folder says so instead of
// quietly starting an empty store.
func OpenExisting(ctx context.Context, opt Options) (*App, error) {
	if opt.Catalog != "" && opt.Blobs != "" {
		// Everything is shared: the data directory would hold only a
		// server's spool, which these commands do not use.
		opt.noDataDir = true
		return Open(ctx, opt)
	}
	fi, err := os.Stat(opt.Data)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("data directory %s does not exist (sshelf serve creates it; give --data or SSHELF_DATA)", opt.Data)
	case err != nil:
		return nil, fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("data directory %s is not a directory", opt.Data)
	}
	return Open(ctx, opt)
}
