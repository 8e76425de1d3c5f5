package files

import (
	"context"
	"errors"
	"fmt"
)

// FreeSpace reports the bytes still free where contents are stored.
// Uploads are refused while it is below Limits.MinFreeSpace (rule 9), so
// that the disk never fills with uploads.
type FreeSpace interface {
	FreeSpace(ctx context.Context) (int64, error)
}

// Spare is room held back for the catalog (see internal/diskspace): a
// delete is itself a write, so on a full disk nobody could free space.
type Spare interface {
	// Release gives the held room back to the file system.
	Release() error
	// Restore holds the room again if the file system has enough free.
	Restore() error
}

// Owners says whether an account may still store files: an account being
// deleted may not (`sshelf user del` runs in another process while the
// account's sessions are being ended).
type Owners interface {
	MayStore(ctx context.Context, user string) (bool, error)
}

// spaceCheckEvery is how many bytes an upload may add between two looks
// at the free space: statfs is cheap, but not cheap enough for every
// 32 KiB packet. Near the reserve an upload looks more often (spaceFor).
const spaceCheckEvery = 4 << 20

// spaceFor refuses to add need bytes that would take the free space below
// the reserve. It returns how many bytes may be added after those before
// asking again: half the room left, at most spaceCheckEvery, so that one
// upload stops before it reaches the reserve (give or take the bytes the
// spool gathers before it writes them, writeBufSize).
func (s *Service) spaceFor(ctx context.Context, need int64) (int64, error) {
	if s.space == nil || s.limits.MinFreeSpace <= 0 {
		return spaceCheckEvery, nil
	}
	free, err := s.space.FreeSpace(ctx)
	if err != nil {
		return 0, err
	}
	room := free - s.limits.MinFreeSpace - need
	if room < 0 {
		return 0, fmt.Errorf("%w (%d bytes free, %d reserved)", ErrNoSpace, free, s.limits.MinFreeSpace)
	}
	return min(room/2, spaceCheckEvery), nil
}

// admit is the check at the start of an upload of need bytes: the account
// may still store files, and the disk has room above the reserve.
func (s *Service) admit(ctx context.Context, user string, need int64) error {
	if err := s.mayStore(ctx, user); err != nil {
		return err
	}
	_, err := s.spaceFor(ctx, max(need, 0))
	return err
}

func (s *Service) mayStore(ctx context.Context, user string) error {
	if s.owners == nil {
		return nil
	}
	ok, err := s.owners.MayStore(ctx, user)
	if err != nil {
		return err
	}
	if !ok {
		return ErrAccountGone
	}
	return nil
}

// room is the check of a write of n bytes at off: bytes beyond the
// current length take space (bytes written into a hole were counted when
// the hole was made). The free space is read again only when the bytes
// added since the last look exceed what that look allowed.
func (u *Upload) room(off int64, n int) error {
	end := off + int64(n)
	if u.done || off < 0 || end < off || end <= u.size {
		return nil // writeAt refuses the odd ones
	}
	grow := end - u.size
	if grow <= u.spaceLeft {
		u.spaceLeft -= grow
		return nil
	}
	left, err := u.s.spaceFor(context.Background(), grow)
	if err != nil {
		return err
	}
	u.spaceLeft = left
	return nil
}

// withSpare runs fn, a change that must work on a full disk too (deleting,
// hiding: rule 9). If it fails for want of space, the spare room is given
// back and fn is tried once more.
func (s *Service) withSpare(ctx context.Context, what string, fn func() error) error {
	err := fn()
	if s.spare == nil || !errors.Is(err, ErrNoSpace) {
		return err
	}
	if rerr := s.spare.Release(); rerr != nil {
		s.log.Error("disk full", "op", what, "err", rerr)
		return err
	}
	s.log.Warn("disk full: released the disk reserve", "op", what)
	return fn()
}

// restoreSpare takes the spare room again after space was freed, if the
// disk now has enough.
func (s *Service) restoreSpare() {
	if s.spare == nil {
		return
	}
	if err := s.spare.Restore(); err != nil {
		s.log.Warn("restore disk reserve", "err", err)
	}
}
