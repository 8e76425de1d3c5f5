package files

import (
	"context"
	"fmt"
)

// collectPage and collectRounds bound one collection: the rest waits for
// the next.
const (
	collectPage   = 100
	collectRounds = 10
)

// collect removes the blobs the catalog dropped more than the grace period
// ago, then takes them off the garbage list. The list is in the catalog,
// written in the transaction that dropped each blob, so a crash before the
// removal loses nothing: the next collection finds it.
//
// With a store of its own (no grace period by default, so every change
// finds its blob due), one collection runs at a time: concurrent ones each
// removed every key on the list and took it off in a write transaction of
// its own, work that grew with the number of sessions removing files (a
// sixth of the stress test's CPU). One that waited finds what is left. A
// shared store's garbage waits out a grace period, and a change rarely
// finds any due: there a change never waits for a sweep in progress.
func (s *Service) collect(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx) // a removal the client no longer waits for still runs
	if !s.sharedBlobs {
		s.collecting.Lock()
		defer s.collecting.Unlock()
	}
	for range collectRounds {
		keys, err := s.catalog.Garbage(ctx, s.now().Add(-s.garbageGrace), collectPage)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if err := s.blobs.Remove(ctx, key); err != nil {
				return fmt.Errorf("collect %s: %w", key, err)
			}
			if err := s.catalog.Collected(ctx, key); err != nil {
				return err
			}
		}
		if len(keys) < collectPage {
			return nil
		}
	}
	return nil
}

// collectGarbage is collect after a change that dropped a blob. A failure
// only leaves garbage that a later collection removes, so it is logged,
// not returned.
func (s *Service) collectGarbage(ctx context.Context) {
	if err := s.collect(ctx); err != nil {
		s.log.Warn("remove content", "err", err)
	}
}
