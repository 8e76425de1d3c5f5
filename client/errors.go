package client

import (
	"errors"
	"strings"
)

// Sentinels for the server's refusals, for errors.Is on an *Error. Each is
// matched on the kind token of the server's end line ("E 1 [not-found]
// sshelf: ..."), which the server keeps stable; against a server that
// sends no token, the older ones fall back to the reason's words.
var (
	ErrNotFound         = errors.New("no such file")
	ErrPermission       = errors.New("permission denied")
	ErrNameTaken        = errors.New("name taken by another user")
	ErrPasswordRequired = errors.New("download password required")
	ErrWrongPassword    = errors.New("wrong password")
	// ErrThrottled: too many wrong tries, or (ErrBusy) too much waiting
	// work; both mean try again later.
	ErrThrottled   = errors.New("too many tries, try again later")
	ErrBusy        = errors.New("server busy, try again later")
	ErrQuota       = errors.New("quota or size limit exceeded")
	ErrNoSpace     = errors.New("no space left on the server")
	ErrBadName     = errors.New("invalid name")
	ErrInvalid     = errors.New("invalid value")
	ErrConflict    = errors.New("the file's state does not allow it")
	ErrUnsupported = errors.New("operation not supported")
	ErrIncomplete  = errors.New("upload incomplete; nothing stored")
	// ErrHashMismatch: the server refused content that did not match the
	// --sha256 given, or found stored content that does not match its
	// record; the server's integrity refusals also match ErrIntegrity.
	ErrHashMismatch = errors.New("content does not match the given sha256")
	// ErrInternal: the server failed; its log has the detail.
	ErrInternal = errors.New("server internal error")
	// ErrUsage is any status-2 answer: a request the server could not parse.
	ErrUsage = errors.New("usage error")
)

// Errors the client itself detects.
var (
	// ErrIntegrity: the bytes received do not hash to what the server
	// recorded, or the server's hashes disagree, or the server refused
	// content for its hash. Never ignore it.
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
	Kind    string // the kind token ("not-found"); "" from a server without tokens
	Message string // the server's line: "sshelf: COMMAND: NAME: reason"
}

func (e *Error) Error() string { return e.Message }

// kinds maps each sentinel to the tokens it matches (the README's table).
var kinds = map[error][]string{
	ErrNotFound:         {"not-found"},
	ErrPermission:       {"permission"},
	ErrNameTaken:        {"name-taken"},
	ErrPasswordRequired: {"password-required"},
	ErrWrongPassword:    {"wrong-password"},
	ErrThrottled:        {"throttled", "busy"},
	ErrBusy:             {"busy"},
	ErrQuota:            {"quota"},
	ErrNoSpace:          {"no-space"},
	ErrBadName:          {"bad-name"},
	ErrInvalid:          {"invalid"},
	ErrConflict:         {"conflict"},
	ErrUnsupported:      {"unsupported"},
	ErrIncomplete:       {"incomplete"},
	ErrHashMismatch:     {"integrity"},
	ErrIntegrity:        {"integrity"},
	ErrInternal:         {"internal"},
	ErrUsage:            {"usage"},
}

// parseEnd splits a failure's end-line message into its kind token and
// the error line; a message without a token is all line.
func parseEnd(msg string) (kind, line string) {
	if tok, rest, ok := strings.Cut(msg, "] "); ok && strings.HasPrefix(tok, "[") && !strings.ContainsAny(tok, " :") {
		return tok[1:], rest
	}
	return "", msg
}

// reasons maps the endings of a tokenless server's error lines ("sshelf:
// COMMAND: NAME: reason") to sentinels. The reason comes last, so a file
// name never passes for one.
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
	if target == ErrUsage && e.Status == 2 {
		return true
	}
	if e.Kind != "" {
		for _, k := range kinds[target] {
			if k == e.Kind {
				return true
			}
		}
		return false
	}
	for _, r := range reasons {
		if r.err == target && strings.HasSuffix(e.Message, r.suffix) {
			return true
		}
	}
	return false
}
