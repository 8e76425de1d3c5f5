package sqlitedb

import "errors"

// SQLite result codes for a write that found no room: SQLITE_FULL (also
// what a WAL or journal write that hits ENOSPC returns), and
// SQLITE_IOERR_SHMSIZE, when opening cannot extend the shared-memory file.
const (
	codeFull       = 13
	codeIOErrShmSz = 10 | 19<<8
)

// IsFull reports whether err is SQLite's answer to a full disk, or wraps
// ErrFull.
func IsFull(err error) bool {
	if errors.Is(err, ErrFull) {
		return true
	}
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code()
	return c&0xff == codeFull || c == codeIOErrShmSz
}
