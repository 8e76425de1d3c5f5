package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"strings"
	"sync"
)

// PutOptions describe an upload.
type PutOptions struct {
	Name     string
	Hidden   bool
	Password string // download password; "" stores the file unprotected
	// CurrentPassword proves the owner knows the download password of a
	// protected file being replaced, when Password is not that password.
	CurrentPassword string
	SHA256          string // expected hex digest; "" checks nothing
	Size            int64  // size the client declared; < 0 when unknown
	// KeepOld starts the upload from the existing file's content, as an
	// SFTP open without truncation does: bytes the client does not write
	// keep their old values (appending, resuming, changing a few bytes).
	// The result is still a new version, committed whole or not at all.
	KeepOld bool
	// Exclusive refuses the upload if the name exists (SFTP's EXCL flag).
	Exclusive bool
	// MustExist refuses the upload if the name does not exist (an SFTP
	// open for writing without CREAT).
	MustExist bool
}

// Upload is content on its way in. It is hashed as it is written, becomes
// visible only on Commit (rule 6), and leaves nothing behind on Abort.
// Writes may come out of order (SFTP); the hash is then computed at Commit.
type Upload struct {
	s      *Service
	user   string
	opt    PutOptions
	pwHash string
	w      *spoolFile
	// replacesHash is the password hash of the file this upload replaces
	// as Create checked it; Commit refuses if protection changed meanwhile.
	replacesHash string
	// limit is the most bytes this upload may hold; limitErr says why.
	limit    int64
	limitErr error
	// With a quota, free is the room it left when the upload started and
	// credit the size of the file the upload replaces: the upload may grow
	// while the account's open uploads together fit (pending.go).
	quota        bool
	free, credit int64

	mu      sync.Mutex
	h       hash.Hash
	hashed  int64 // bytes hashed, always a prefix of the content
	size    int64 // current length of the content
	claimed int64 // length checked against the limits, >= size
	hold    int64 // quota held in s.pending for this upload
	written byteRanges
	// base is the blob of the version this upload started from (KeepOld);
	// its bytes in [0, baseLen) that were not written are copied in at
	// Commit (or at the first read back). Commit refuses if the file no
	// longer has that version.
	base    string
	baseLen int64
	filled  bool // base bytes copied in
	inOrder bool // no write so far changed hashed bytes
	// ahead are the ranges written beyond the hashed prefix, sorted and
	// disjoint: SFTP clients keep many writes in flight and pkg/sftp runs
	// them on several workers, so they land slightly out of order. Once
	// the prefix reaches a range, it is read back and hashed, so the hash
	// still takes one pass over the data instead of a second one at Commit.
	ahead   []span
	scratch []byte // for reading ranges back
	done    bool
	// spaceLeft is how many bytes the upload may add before it looks at
	// the free space again (space.go).
	spaceLeft int64
}

// span is the byte range [start, end).
type span struct{ start, end int64 }

// maxAhead bounds the ranges tracked; a client writing all over the file
// makes Commit hash the content again instead.
const maxAhead = 1024

// CheckSHA256 checks an expected SHA-256 given by a client: 64 hex digits,
// either case.
func CheckSHA256(h string) error {
	if len(h) != 64 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
		return ErrBadHash
	}
	return nil
}

// Create starts an upload for user. It refuses early what would be refused
// at Commit anyway: a bad name, another user's name, a full quota.
func (s *Service) Create(ctx context.Context, user string, opt PutOptions) (*Upload, error) {
	if err := ValidateName(opt.Name); err != nil {
		return nil, err
	}
	if opt.SHA256 != "" {
		if err := CheckSHA256(opt.SHA256); err != nil {
			return nil, err
		}
		opt.SHA256 = strings.ToLower(opt.SHA256)
	}
	if err := s.admit(ctx, user, opt.Size); err != nil {
		return nil, err
	}
	var oldSize int64
	var keepHash, replacesHash string
	var base string
	old, err := s.catalog.Lookup(ctx, opt.Name)
	switch {
	case err == nil:
		if old.Owner != user {
			return nil, ErrNameTaken
		}
		if opt.Exclusive {
			return nil, ErrExists
		}
		oldSize = old.Size
		if opt.KeepOld {
			base = old.Blob
		}
		if keepHash, err = s.replaceProtected(ctx, user, old, opt); err != nil {
			return nil, err
		}
		replacesHash = old.PasswordHash
	case err != ErrNotFound:
		return nil, err
	case opt.MustExist:
		return nil, ErrNotFound
	}
	u := &Upload{s: s, user: user, opt: opt, h: sha256.New(), inOrder: true,
		limit: math.MaxInt64, limitErr: ErrTooLarge, // no file is longer than an int64
		pwHash: keepHash, replacesHash: replacesHash}
	if base != "" {
		u.base, u.baseLen, u.size, u.claimed = base, oldSize, oldSize, oldSize
	}
	if m := s.limits.MaxFileSize; m > 0 {
		u.limit, u.limitErr = m, ErrTooLarge
	}
	if q := s.limits.Quota; q > 0 {
		used, err := s.catalog.Usage(ctx, user)
		if err != nil {
			return nil, err
		}
		if room := q - used + oldSize; room < u.limit {
			u.limit, u.limitErr = max(room, 0), ErrQuota
		}
		u.quota, u.free, u.credit = true, q-used, oldSize
	}
	// A declared size is claimed at once: scp learns of a full quota
	// before it sends the content.
	if err := u.grow(opt.Size); err != nil {
		return nil, err
	}
	if opt.Password != "" {
		if u.pwHash, err = s.hasher.Hash(ctx, opt.Password); err != nil {
			u.release()
			return nil, err
		}
	}
	if u.w, err = s.spool.create(ctx, s.blobs); err != nil {
		u.release()
		return nil, err
	}
	return u, nil
}

// grow lets the content reach end bytes if the size limit and the quota
// allow it, counting the account's other open uploads. It is checked on
// every write that makes the upload longer, so a write far past the end is
// refused at once rather than at Commit.
func (u *Upload) grow(end int64) error {
	if end <= u.claimed {
		return nil
	}
	if end > u.limit {
		return u.limitErr
	}
	if u.quota {
		hold, ok := u.s.pending.claim(u.user, u.hold, end-u.credit, u.free)
		if !ok {
			return ErrQuota
		}
		u.hold = hold
	}
	u.claimed = end
	return nil
}

// shrink gives back what the upload claimed beyond size.
func (u *Upload) shrink(size int64) {
	if size >= u.claimed {
		return
	}
	if u.quota {
		u.hold, _ = u.s.pending.claim(u.user, u.hold, size-u.credit, u.free)
	}
	u.claimed = size
}

// release gives back the quota held, when the upload ends either way.
func (u *Upload) release() {
	if u.quota {
		u.hold, _ = u.s.pending.claim(u.user, u.hold, 0, u.free)
	}
	u.claimed = 0
}

// Name is the name the upload will take.
func (u *Upload) Name() string { return u.opt.Name }

// Size is the content's current length.
func (u *Upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.size
}

// Write appends p (after the old content, with KeepOld).
func (u *Upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.room(u.size, len(p)); err != nil {
		return 0, err
	}
	return u.writeAt(p, u.size)
}

// WriteAt writes p at off, for SFTP's out-of-order writes.
func (u *Upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.room(off, len(p)); err != nil {
		return 0, err
	}
	return u.writeAt(p, off)
}

func (u *Upload) writeAt(p []byte, off int64) (int, error) {
	if u.done {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("put %q: negative offset", u.opt.Name)
	}
	if len(p) > 0 { // a zero-length write past the end extends nothing
		if int64(len(p)) > math.MaxInt64-off {
			return 0, ErrTooLarge
		}
		if err := u.grow(off + int64(len(p))); err != nil {
			return 0, err
		}
	}
	n, err := u.w.WriteAt(p, off)
	if n > 0 { // a zero-length write past the end does not extend the content
		u.track(p[:n], off)
		u.size = max(u.size, off+int64(n))
		if werr := u.written.add(off, off+int64(n)); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

// track keeps the hash up with the bytes p just written at off.
func (u *Upload) track(p []byte, off int64) {
	end := off + int64(len(p))
	switch {
	case !u.inOrder:
	case off == u.hashed:
		u.h.Write(p)
		u.hashed = end
		u.catchUp()
		u.w.offer(u.hashed)
	case off > u.hashed:
		u.addAhead(span{off, end})
	default: // hashed bytes were rewritten: hash again at Commit
		u.inOrder = false
	}
}

// addAhead records a range written beyond the hashed prefix, merging it
// with the ranges it touches.
func (u *Upload) addAhead(r span) {
	i := 0
	for i < len(u.ahead) && u.ahead[i].end < r.start {
		i++
	}
	j := i
	for j < len(u.ahead) && u.ahead[j].start <= r.end {
		r.start, r.end = min(r.start, u.ahead[j].start), max(r.end, u.ahead[j].end)
		j++
	}
	u.ahead = append(u.ahead[:i], append([]span{r}, u.ahead[j:]...)...)
	if len(u.ahead) > maxAhead {
		u.inOrder, u.ahead = false, nil
	}
}

// catchUp hashes the ranges written ahead that the prefix now reaches,
// reading them back from the blob (still in the page cache).
func (u *Upload) catchUp() {
	for len(u.ahead) > 0 && u.ahead[0].start <= u.hashed {
		r := u.ahead[0]
		u.ahead = u.ahead[1:]
		if r.end <= u.hashed {
			continue
		}
		if u.scratch == nil {
			u.scratch = make([]byte, 64<<10)
		}
		for u.hashed < r.end {
			chunk := u.scratch[:min(int64(len(u.scratch)), r.end-u.hashed)]
			if n, err := u.w.ReadAt(chunk, u.hashed); n < len(chunk) || err != nil && err != io.EOF {
				u.inOrder, u.ahead = false, nil // Commit hashes again, or fails reading
				return
			}
			u.h.Write(chunk)
			u.hashed += int64(len(chunk))
		}
	}
	if len(u.ahead) == 0 {
		u.ahead = nil // let append start a fresh array rather than grow past a consumed prefix
	}
}

// Truncate shortens the content, as SFTP clients do before closing (scp
// truncates to the end of what it wrote). It never lengthens it: zeros
// the client did not send would cost hashing and storage out of all
// proportion to the request (ErrTruncateGrow).
func (u *Upload) Truncate(size int64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return ErrClosed
	}
	if size < 0 {
		return fmt.Errorf("put %q: negative size", u.opt.Name)
	}
	if size > u.size {
		return ErrTruncateGrow
	}
	if size == u.size {
		return nil
	}
	u.written.cut(size)
	u.baseLen = min(u.baseLen, size)
	if err := u.w.Truncate(size); err != nil {
		return err
	}
	if size != u.hashed {
		u.inOrder = false
	}
	u.ahead = nil // all beyond the hashed prefix, cut or hashed again at Commit
	u.size = size
	u.shrink(size)
	return nil
}

// ReadAt reads back what was written, for SFTP clients that read an open
// upload.
func (u *Upload) ReadAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("put %q: read at a negative offset", u.opt.Name)
	}
	// io.ReaderAt has no context; copying the old bytes in is local I/O.
	if err := u.fill(context.Background()); err != nil {
		return 0, err
	}
	if off >= u.size {
		return 0, io.EOF
	}
	if rest := u.size - off; int64(len(p)) > rest {
		n, err := u.w.ReadAt(p[:rest], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return u.w.ReadAt(p, off)
}

// Abort discards the upload.
func (u *Upload) Abort() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.done = true
	u.release()
	return u.w.Abort()
}

// sum returns the content's SHA-256, hashing it again if writes came out
// of order.
func (u *Upload) sum() (string, error) {
	if !u.inOrder || u.hashed != u.size {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(u.w, 0, u.size)); err != nil {
			return "", err
		}
		u.h, u.hashed = h, u.size
	}
	return hex.EncodeToString(u.h.Sum(nil)), nil
}

// Commit makes the upload the file's content, atomically: readers see the
// old version or the new, whole. On any error nothing is stored.
func (u *Upload) Commit(ctx context.Context) (File, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return File{}, ErrClosed
	}
	f, err := u.commit(ctx)
	u.done = true
	u.release()
	if err != nil {
		u.w.Abort()
	}
	return f, err
}

func (u *Upload) commit(ctx context.Context) (File, error) {
	if err := u.s.mayStore(ctx, u.user); err != nil {
		return File{}, err
	}
	if u.opt.Size >= 0 && u.size != u.opt.Size {
		return File{}, ErrIncomplete
	}
	if err := u.fill(ctx); err != nil {
		return File{}, err
	}
	if !u.written.covers(u.size) {
		return File{}, ErrGaps
	}
	sum, err := u.sum()
	if err != nil {
		return File{}, err
	}
	if u.opt.SHA256 != "" && sum != u.opt.SHA256 {
		return File{}, ErrHashMismatch
	}
	key, err := u.w.store(ctx, u.s.blobs, u.size)
	if err != nil {
		return File{}, err
	}
	rec := Record{
		File: File{
			Name:      u.opt.Name,
			Size:      u.size,
			Owner:     u.user,
			Hidden:    u.opt.Hidden,
			Protected: u.pwHash != "",
			SHA256:    sum,
			Uploaded:  u.s.now().UTC(),
		},
		PasswordHash: u.pwHash,
		Blob:         key,
	}
	quota := u.s.limits.Quota
	old, err := u.s.catalog.Put(ctx, rec, func(old *Record, usage int64) error {
		if old != nil && old.Owner != u.user {
			return ErrNameTaken
		}
		if old != nil && u.opt.Exclusive {
			return ErrExists
		}
		if u.base != "" && (old == nil || old.Blob != u.base) {
			// Started from a version that has been replaced or removed.
			return ErrConflict
		}
		if old != nil && old.PasswordHash != "" && old.PasswordHash != u.replacesHash {
			// Protected (or re-protected) since Create checked the password.
			return ErrConflict
		}
		if old != nil {
			usage -= old.Size
		}
		if quota > 0 && usage+rec.Size > quota {
			return ErrQuota
		}
		return nil
	})
	if err != nil {
		u.s.removeBlob(ctx, key)
		return File{}, err
	}
	if old != nil {
		u.s.collectGarbage(ctx)
	}
	return rec.File, nil
}

// fill copies in the bytes of the version the upload started from that
// were not written (KeepOld), once.
func (u *Upload) fill(ctx context.Context) error {
	if u.base == "" || u.filled {
		return nil
	}
	// The old bytes are copied: a new version takes their space again.
	var need int64
	u.written.gaps(u.baseLen, func(start, end int64) error { need += end - start; return nil })
	if _, err := u.s.spaceFor(ctx, need); err != nil {
		return err
	}
	r, err := u.s.blobs.Open(ctx, u.base)
	if err != nil {
		// Replaced and removed since Create.
		return fmt.Errorf("put %q: open the version it updates: %w (%v)", u.opt.Name, ErrConflict, err)
	}
	defer r.Close()
	buf := make([]byte, 256<<10)
	err = u.written.gaps(u.baseLen, func(start, end int64) error {
		for off := start; off < end; {
			chunk := buf[:min(int64(len(buf)), end-off)]
			if _, err := r.ReadAt(chunk, off); err != nil {
				return fmt.Errorf("put %q: read the version it updates: %w", u.opt.Name, err)
			}
			if _, err := u.w.WriteAt(chunk, off); err != nil {
				return err
			}
			u.track(chunk, off)
			off += int64(len(chunk))
		}
		return nil
	})
	if err != nil {
		return err
	}
	u.filled = true
	// Everything below the old length now holds content.
	return u.written.add(0, u.baseLen)
}

// replaceProtected applies rule 4 to an owner's upload onto a protected
// file: replacing it would remove or change its protection, so it needs the
// current download password, as opt.Password or opt.CurrentPassword. It
// returns the hash the new version keeps when no new password is given.
func (s *Service) replaceProtected(ctx context.Context, user string, old Record, opt PutOptions) (string, error) {
	if old.PasswordHash == "" {
		return "", nil
	}
	try := opt.CurrentPassword
	if opt.Password != "" && try != "" {
		ok, err := s.hasher.Verify(ctx, opt.Password, old.PasswordHash)
		if err != nil {
			return "", err
		}
		if ok {
			try = opt.Password
		}
	} else if opt.Password != "" {
		try = opt.Password
	}
	if err := s.checkPassword(ctx, user, old, try); err != nil {
		return "", err
	}
	if opt.Password == "" {
		return old.PasswordHash, nil
	}
	return "", nil
}
