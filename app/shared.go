package app

import (
	"context"
	"errors"
)

// openShared opens the stores of a cluster: the PostgreSQL catalog and the
// S3 bucket (or the embedded half of either).
func openShared(ctx context.Context, opt Options) (*stores, error) {
	return nil, errors.New("shared stores: not wired yet")
}
