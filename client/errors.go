package client

import (
	"errors"
	"strings"
)

// Sentinels for the server's refusals, for errors.Is on an *Error. They are
// matched on the reason at the end of the server's error line, whose words
// the server keeps stable.
var (
	ErrNotFound         = errors.New("no such file")
	ErrPermission       = errors.New("permission denied")
	ErrNameTaken        = errors.New("name taken by another user")
	ErrPasswordRequired = errors.New("download password required")
	ErrWrongPassword    = errors.New("wrong password")
	ErrThrottled        = errors.New("too many tries, try again later")
	ErrIncomplete       = errors.New("upload incomplete; nothing stored")
	ErrHashMismatch     = errors.New("content does not match the given sha256")
	// ErrUsage is any status-2 answer: a request the server could not parse.
	ErrUsage = errors.New("usage error")
)

// Errors the client itself detects.
var (
	// ErrIntegrity: the bytes received do not hash to what the server
	// recorded, or the server's hashes disagree. Never ignore it.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrProtocol: the server's answer does not follow the framing; the
	// session is unusable.
	ErrProtocol = errors.New("sshelf protocol error")
	// ErrBroken: an earlier failure left the session out of step (a
	// cancelled request, a short content reader); dial again.
	ErrBroken = errors.New("sshelf session unusable")
)

// Error is a request the server answered with a non-zero status.
type Error struct {
	Status  int    // 1 refused or failed, 2 usage error
	Message string // the server's line: "sshelf: COMMAND: NAME: reason"
}

func (e *Error) Error() string { return e.Message }

// reasons maps the endings of the server's error lines ("sshelf: COMMAND:
// NAME: reason") to sentinels. The reason comes last, so a file name never
// passes for one.
var reasons = []struct {
	suffix string
	err    error
}{
	{": no such file", ErrNotFound},
	{": permission denied: not the owner", ErrPermission},
	{": name taken by another user", ErrNameTaken},
	{": download password required", ErrPasswordRequired},
	{": wrong download password", ErrWrongPassword},
	{": wrong password", ErrWrongPassword},
	{"try again later", ErrThrottled},
	{": upload incomplete; nothing stored", ErrIncomplete},
	{": content does not match the given sha256; upload discarded", ErrHashMismatch},
}

// Is matches the sentinels above.
func (e *Error) Is(target error) bool {
	if target == ErrUsage {
		return e.Status == 2
	}
	for _, r := range reasons {
		if r.err == target && strings.HasSuffix(e.Message, r.suffix) {
			return true
		}
	}
	return false
}
