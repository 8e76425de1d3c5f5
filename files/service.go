package files

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/sshelf/sshelf/internal/passhash"
	"github.com/sshelf/sshelf/internal/throttle"
)

// Limits bound what one upload and one account may store; 0 means none.
type Limits struct {
	MaxFileSize int64
	Quota       int64
	// MinFreeSpace is the free space below which uploads are refused.
	MinFreeSpace int64
}

// Service applies the contract's rules to a Catalog and a Blobs store. Every
// transport calls it; the user it is given is the authenticated account.
type Service struct {
	catalog Catalog
	blobs   Blobs
	spool   spool
	// garbageGrace and sharedBlobs: see Config.
	garbageGrace time.Duration
	sharedBlobs  bool
	// instance and sweep: see Config and cluster.go.
	instance string
	sweep    Sweep
	hasher   passwordHasher
	limits   Limits
	// space, spare and owners may be nil (space.go).
	space  FreeSpace
	spare  Spare
	owners Owners
	// tries counts download-password tries per account and file, per file
	// and per address (rule 8).
	tries *throttle.Limiter
	log   *slog.Logger
	now   func() time.Time

	// pending is the quota that open uploads hold (pending.go).
	pending pendingBytes

	// collecting holds one garbage collection at a time, with a store of
	// its own (garbage.go).
	collecting sync.Mutex
}

// Config gathers what a Service needs.
type Config struct {
	Catalog Catalog
	Blobs   Blobs
	// SpoolDir is this server's own folder for uploads in progress, on
	// the blob store's file system if the store can adopt files there
	// (Adopter). "" is the system's temporary folder, which Recover then
	// leaves alone.
	SpoolDir string
	// GarbageGrace is how long a replaced or removed blob stays in the
	// store before it is removed, so that a download of the old version
	// that opened it (here or on another server sharing the store)
	// finishes whole. 0 removes it at once, which the disk store allows:
	// there, a file open on the one server using it stays readable.
	GarbageGrace time.Duration
	// SharedBlobs says other servers store into the same blob store:
	// start-up recovery then cleans only this server's spool, and Run
	// cleans the store, one server at a time.
	SharedBlobs bool
	// Instance names this server among those sharing the catalog and the
	// blob store (its heartbeat, the keys of its uploads); "" alone.
	Instance string
	// Sweep sets the shared clean-up (cluster.go).
	Sweep          Sweep
	Hasher         *passhash.Hasher
	Limits         Limits
	PasswordPolicy throttle.Policy
	// Attempts keeps the download-password tries; required when
	// PasswordPolicy is enabled.
	Attempts throttle.Store
	Logger   *slog.Logger
	// Space, Spare and Owners are optional (space.go).
	Space  FreeSpace
	Spare  Spare
	Owners Owners
}

// NewService returns a Service over cfg's stores.
func NewService(cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		catalog: cfg.Catalog,
		blobs:   cfg.Blobs,
		spool:   spool{dir: cmp.Or(cfg.SpoolDir, os.TempDir()), shared: cfg.SpoolDir == ""},

		garbageGrace: cfg.GarbageGrace,
		sharedBlobs:  cfg.SharedBlobs,
		instance:     cfg.Instance,
		sweep:        cfg.Sweep.withDefaults(),
		hasher:       cfg.Hasher,
		limits:       cfg.Limits,
		space:        cfg.Space,
		spare:        cfg.Spare,
		owners:       cfg.Owners,
		tries:        throttle.New(cfg.Attempts, cfg.PasswordPolicy),
		log:          log,
		now:          time.Now,
	}
}

// Limits returns the limits in force.
func (s *Service) Limits() Limits { return s.limits }

// Recover removes what a crash may have left, before serving: this
// server's uploads in progress (its spool), and, with a store of its own,
// the garbage past its grace period and the blobs the catalog does not
// know. A shared store is cleaned by Run on one server at a time, and never
// of what another server is writing.
func (s *Service) Recover(ctx context.Context) error {
	if err := s.spool.clean(ctx); err != nil {
		return err
	}
	if s.sharedBlobs {
		return nil
	}
	if err := s.collect(ctx); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	if _, err := s.removeOrphans(ctx, 0, nil); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	return nil
}

// List returns up to limit public files whose names sort after after (rule
// 1: hidden files are never listed, not even to their owner), with the
// hashes of others' protected files withheld (rule 3).
func (s *Service) List(ctx context.Context, user, after string, limit int) ([]File, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	q := ListQuery{Limit: limit}
	if after != "" {
		q.After = &File{Name: after}
	}
	page, err := s.catalog.ListPublic(ctx, q)
	return withholdHashes(page, user), err
}

// checkPassword applies rules 3 and 8: a protected file needs its download
// password, and each try takes its slot (per account and file, per file,
// per address) before the hash, so a burst gets no more checks than the
// limit.
func (s *Service) checkPassword(ctx context.Context, user string, r Record, password string) error {
	if r.PasswordHash == "" {
		return nil
	}
	keys := tryKeys(ctx, user, r)
	if password == "" {
		// No password is not a wrong one, but a blocked file says so.
		if err := s.tries.Blocked(ctx, keys...); err != nil {
			return throttled(err)
		}
		return ErrPasswordRequired
	}
	t, err := s.tries.Reserve(ctx, keys...)
	if err != nil {
		return throttled(err)
	}
	ok, err := s.hasher.Verify(ctx, password, r.PasswordHash)
	if err != nil {
		t.Refund(ctx)
		return err
	}
	if !ok {
		delay, locked, err := t.Fail(ctx)
		if err != nil {
			return err
		}
		if locked {
			return ErrThrottled
		}
		sleep(ctx, delay)
		return ErrWrongPassword
	}
	// A success forgets this account's tries on the file, not those
	// counted on the file or the address.
	if err := t.Refund(ctx, keys[0]); err != nil {
		s.log.Warn("refund a download-password try", "err", err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func ownedBy(r Record, user string) error {
	if r.Owner != user {
		return ErrPermission
	}
	return nil
}

// Remove deletes a file; only its owner may (rule 4). It takes names
// stored before the name rule grew stricter, so owners can clean them up.
func (s *Service) Remove(ctx context.Context, user, name string) error {
	if err := validateExisting(name); err != nil {
		return err
	}
	err := s.withSpare(ctx, "rm", func() error {
		_, err := s.catalog.Delete(ctx, name, func(r Record) error { return ownedBy(r, user) })
		return err
	})
	if err != nil {
		return err
	}
	s.collectGarbage(ctx)
	s.restoreSpare()
	return nil
}

// removeBlob deletes content no record ever referred to (a commit the
// catalog refused). A failure only leaves an orphan that Check collects,
// so it is logged, not returned.
func (s *Service) removeBlob(ctx context.Context, key string) {
	if err := s.blobs.Remove(context.WithoutCancel(ctx), key); err != nil {
		s.log.Warn("remove content", "err", err)
	}
}

// Rename moves a file to a new name; only its owner may, and it may replace
// only an unprotected file of the same owner. The old name may be one
// stored before the name rule grew stricter: renaming rescues such a file.
func (s *Service) Rename(ctx context.Context, user, from, to string) error {
	if err := validateExisting(from); err != nil {
		return err
	}
	if err := ValidateName(to); err != nil {
		return err
	}
	replaced, err := s.catalog.Rename(ctx, from, to, func(src Record, dst *Record) error {
		if err := ownedBy(src, user); err != nil {
			return err
		}
		if dst != nil && dst.Owner != user {
			return ErrNameTaken
		}
		if dst != nil && dst.PasswordHash != "" && from != to {
			// Replacing a protected file removes its protection (rule 4);
			// a rename carries no password to prove the owner knows it.
			return ErrPasswordRequired
		}
		return nil
	})
	if err != nil {
		return err
	}
	if replaced != nil {
		s.collectGarbage(ctx)
	}
	return nil
}

// SetHidden hides or unhides a file; only its owner may (rule 4).
func (s *Service) SetHidden(ctx context.Context, user, name string, hidden bool) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return s.withSpare(ctx, "hide", func() error {
		return s.catalog.Update(ctx, name, func(r *Record) error {
			if err := ownedBy(*r, user); err != nil {
				return err
			}
			r.Hidden = hidden
			return nil
		})
	})
}

// Protect sets a file's download password. Only the owner may, and a file
// already protected needs its current password (rule 4).
func (s *Service) Protect(ctx context.Context, user, name, newPassword, oldPassword string) error {
	if newPassword == "" {
		return ErrEmptyPassword
	}
	return s.changeProtection(ctx, user, name, oldPassword, true, newPassword)
}

// Unprotect removes a file's download password, given the current one.
func (s *Service) Unprotect(ctx context.Context, user, name, password string) error {
	return s.changeProtection(ctx, user, name, password, false, "")
}

func (s *Service) changeProtection(ctx context.Context, user, name, current string, protect bool, newPassword string) error {
	r, err := s.lookupOwned(ctx, user, name)
	if err != nil {
		return err
	}
	if !protect && r.PasswordHash == "" {
		return ErrNotProtected
	}
	// Password hashing is slow: do it outside the catalog's transaction,
	// then commit only if the record did not change meanwhile.
	if err := s.checkPassword(ctx, user, r, current); err != nil {
		return err
	}
	newHash := ""
	if protect {
		if newHash, err = s.hasher.Hash(ctx, newPassword); err != nil {
			return err
		}
	}
	return s.catalog.Update(ctx, name, func(cur *Record) error {
		if cur.Blob != r.Blob || cur.PasswordHash != r.PasswordHash || cur.Owner != r.Owner {
			return ErrConflict
		}
		cur.PasswordHash = newHash
		cur.Protected = newHash != ""
		return nil
	})
}

// RemoveOwnedBy deletes every file owner holds, for an account's removal.
// It lists again until nothing is left, so that a file renamed or stored by
// one of the owner's sessions meanwhile is not missed.
func (s *Service) RemoveOwnedBy(ctx context.Context, owner string) (int, error) {
	removed := 0
	for range removeRounds {
		names, err := s.catalog.OwnedBy(ctx, owner)
		if err != nil {
			return removed, err
		}
		if len(names) == 0 {
			return removed, nil
		}
		for _, name := range names {
			err := s.Remove(ctx, owner, name)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return removed, err
			}
			if err == nil {
				removed++
			}
		}
	}
	return removed, fmt.Errorf("remove the files of %q: still storing after %d rounds", owner, removeRounds)
}

// removeRounds bounds RemoveOwnedBy against an owner that keeps storing.
const removeRounds = 10
