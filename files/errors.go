// Package files holds the catalog and the rules of sshelf: metadata,
// content storage, hashing, visibility, protection and ownership. Every way
// in (exec commands, the sshelf subsystem, SFTP, scp, the terminal UI) calls
// a Service; none re-implements a rule.
package files

import (
	"errors"
	"fmt"

	"github.com/sshelf/sshelf/internal/passhash"
)

// Sentinel errors. Each has one Kind (kind.go), from which the transports
// derive exit codes and SFTP statuses; their text is what a user reads
// after "sshelf: COMMAND: NAME: ".
var (
	ErrNotFound         = errors.New("no such file")
	ErrPermission       = errors.New("permission denied: not the owner")
	ErrNameTaken        = errors.New("name taken by another user")
	ErrBadName          = errors.New("invalid name")
	ErrPasswordRequired = errors.New("download password required")
	ErrWrongPassword    = errors.New("wrong download password")
	ErrThrottled        = errors.New("too many wrong download passwords for this file, try again later")
	ErrNotProtected     = errors.New("file is not protected")
	ErrEmptyPassword    = errors.New("download password must not be empty")
	ErrQuota            = errors.New("quota exceeded")
	ErrTooLarge         = errors.New("file too large")
	ErrHashMismatch     = errors.New("content does not match the given sha256; upload discarded")
	ErrBadHash          = errors.New("--sha256 must be 64 hex digits")
	ErrIncomplete       = errors.New("upload incomplete; nothing stored")
	ErrCorrupt          = errors.New("stored content does not match its recorded sha256")
	ErrNoSpace          = errors.New("no space left on the server; nothing stored")
	ErrClosed           = errors.New("transfer already closed")
	ErrConflict         = errors.New("file changed meanwhile; try again")
	ErrExists           = errors.New("file exists")
	// ErrBusy: the client's address has too many password checks waiting.
	ErrBusy = passhash.ErrBusy
	// ErrUnavailable: a shared catalog or blob store is out of reach; the
	// stores' own errors match it (errors.Is) and say which.
	ErrUnavailable = errors.New("storage unavailable, try again later")
	ErrAccountGone = errors.New("account deleted")
	// ErrTruncateGrow refuses an SFTP truncate past the end of an upload:
	// the zeros it would add are work and storage nobody sent.
	ErrTruncateGrow = errors.New("a truncate cannot make an upload longer than the bytes written")
	// ErrInPlace refuses a size change of a stored file: files are
	// replaced whole, never changed in place.
	ErrInPlace = errors.New("a stored file cannot change size; upload it again")
	// ErrGaps and ErrFragmented are incomplete uploads of SFTP clients
	// that write at offsets: bytes never written, or writes too scattered.
	ErrGaps       = fmt.Errorf("%w: parts of the file were never written", ErrIncomplete)
	ErrFragmented = fmt.Errorf("%w: writes too scattered", ErrIncomplete)
)
