package files

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// Sweep sets how servers sharing a catalog and a blob store clean up after
// each other. One server at a time collects (a lock in the catalog).
type Sweep struct {
	// Every is how often a server tries to collect; 0: a minute.
	Every time.Duration
	// OrphanGrace is how old content no record names must be before it
	// is removed (a commit whose record is on its way is younger); 0:
	// DefaultOrphanGrace.
	OrphanGrace time.Duration
	// UnfinishedGrace is how long an upload begun by a server that has
	// stopped (its heartbeat is older than InstanceTTL) stays before it
	// is aborted; 0: 15 minutes. A live server's uploads are never
	// aborted, however long they take.
	UnfinishedGrace time.Duration
}

// Heartbeats: a server records that it is alive every HeartbeatEvery; one
// silent for InstanceTTL is taken for gone.
const (
	HeartbeatEvery = 10 * time.Second
	InstanceTTL    = 45 * time.Second
)

// orphanSweepEvery: listing a whole bucket costs a request per thousand
// blobs, so orphans are looked for only every this many collections.
const orphanSweepEvery = 10

const collectLock = "sshelf-collect"

func (w Sweep) withDefaults() Sweep {
	w.Every = cmp.Or(w.Every, time.Minute)
	w.OrphanGrace = cmp.Or(w.OrphanGrace, DefaultOrphanGrace)
	w.UnfinishedGrace = cmp.Or(w.UnfinishedGrace, 15*time.Minute)
	return w
}

// Run does the Service's background work until ctx ends: with a catalog
// shared by several servers (Cluster) it keeps this server's heartbeat
// and, one server at a time, collects garbage past its grace period,
// orphans and the uploads of servers that stopped. Alone, there is nothing
// to do: the disk store collects as it goes.
func (s *Service) Run(ctx context.Context) {
	cl, ok := s.catalog.(Cluster)
	if !ok || s.instance == "" {
		return
	}
	beat := func() {
		if err := cl.Heartbeat(ctx, s.instance, s.now()); err != nil && ctx.Err() == nil {
			s.log.Warn("heartbeat", "instance", s.instance, "err", err)
		}
	}
	beat()
	heartbeat := time.NewTicker(HeartbeatEvery)
	defer heartbeat.Stop()
	collect := time.NewTicker(s.sweep.Every)
	defer collect.Stop()
	for n := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			beat()
		case <-collect.C:
			if err := s.Sweep(ctx, n%orphanSweepEvery == 0); err != nil && ctx.Err() == nil {
				s.log.Warn("collect", "err", err)
			}
			n++
		}
	}
}

// Sweep collects once, if no other server is collecting: garbage past its
// grace period, uploads left unfinished by servers that stopped, and, with
// orphans, content that no record names.
func (s *Service) Sweep(ctx context.Context, orphans bool) error {
	cl, ok := s.catalog.(Cluster)
	if !ok {
		return s.collect(ctx)
	}
	release, ok, err := cl.TryLock(ctx, collectLock)
	if err != nil || !ok {
		return err
	}
	defer release()
	if err := s.collect(ctx); err != nil {
		return err
	}
	if err := s.abortUnfinished(ctx, cl); err != nil {
		return err
	}
	if !orphans {
		return nil
	}
	alive, err := cl.Alive(ctx, s.now().Add(-InstanceTTL))
	if err != nil {
		return err
	}
	n, err := s.removeOrphans(ctx, s.sweep.OrphanGrace, alive)
	if n > 0 {
		s.log.Info("removed unreferenced contents", "count", n)
	}
	return err
}

// abortUnfinished aborts the uploads in progress of servers that stopped.
func (s *Service) abortUnfinished(ctx context.Context, cl Cluster) error {
	shared, ok := s.blobs.(SharedStore)
	if !ok {
		return nil
	}
	alive, err := cl.Alive(ctx, s.now().Add(-InstanceTTL))
	if err != nil {
		return err
	}
	var stale []Unfinished
	err = shared.Unfinished(ctx, func(u Unfinished) error {
		inst := shared.Instance(u.Key)
		if inst == s.instance || alive[inst] || s.now().Sub(u.Began) < s.sweep.UnfinishedGrace {
			return nil
		}
		stale = append(stale, u)
		return nil
	})
	if err != nil {
		return fmt.Errorf("unfinished uploads: %w", err)
	}
	for _, u := range stale {
		if err := shared.AbortUnfinished(ctx, u); err != nil {
			return fmt.Errorf("abort unfinished upload %s: %w", u.Key, err)
		}
	}
	if len(stale) > 0 {
		s.log.Info("aborted uploads of stopped servers", "count", len(stale))
	}
	return nil
}

// liveOrphanGrace is how old an orphan of a server still alive must be
// before it is removed: some stores date a multipart upload's object from
// when the upload began, so a long upload just committed may look old.
const liveOrphanGrace = 24 * time.Hour

// removeOrphans removes the blobs no record names that are older than
// grace (liveOrphanGrace for those of a server in alive); a store that
// cannot tell a blob's age keeps them.
func (s *Service) removeOrphans(ctx context.Context, grace time.Duration, alive map[string]bool) (int, error) {
	stater, ok := s.blobs.(blobStater)
	if !ok {
		return 0, nil
	}
	var orphans []string
	err := s.blobs.Keys(ctx, func(key string) error {
		known, err := s.catalog.HasBlob(ctx, key)
		if err != nil || known {
			return err
		}
		orphans = append(orphans, key)
		return nil
	})
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, key := range orphans {
		info, err := stater.Stat(ctx, key)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, err
		}
		need := grace
		if shared, ok := s.blobs.(SharedStore); ok && alive[shared.Instance(key)] {
			need = max(grace, liveOrphanGrace)
		}
		if s.now().Sub(info.Changed) < need {
			continue
		}
		// Named since the listing? (A commit finishing just now.)
		if known, err := s.catalog.HasBlob(ctx, key); err != nil || known {
			if err != nil {
				return removed, err
			}
			continue
		}
		if err := s.blobs.Remove(ctx, key); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}
