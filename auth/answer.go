package auth

import (
	"context"
	"errors"

	"github.com/sshelf/sshelf/internal/passhash"
)

// IsAnswer reports whether err, from Authenticate or LoginKey, is an
// answer about the login itself (a wrong password, a lockout, a bad name,
// a busy hash queue, the client gone) rather than a failure to read the
// accounts, such as a shared catalog out of reach.
func IsAnswer(err error) bool {
	for _, e := range []error{ErrDenied, ErrLocked, ErrBadUsername, ErrNoAccount, ErrEmptyPass,
		passhash.ErrBusy, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
