// Package sessions is the seam for counting sessions per account and per
// client address across every server of a cluster, so that the limits
// hold however a balancer spreads one client's connections. sshd counts
// in memory without a Counter; pgsessions counts in the shared catalog.
package sessions

import (
	"context"
	"errors"
)

// The refusals of a Counter; each says which limit was hit, so a user
// knows whether waiting or another account or address would help.
var (
	ErrTooManyForUser = errors.New("too many sessions for your account, try again later")
	ErrTooManyForAddr = errors.New("too many sessions from your address, try again later")
)

// Counter counts the sessions open on every server sharing it.
type Counter interface {
	// Acquire takes a slot for a session of user from addr unless addr
	// holds perAddr sessions (ErrTooManyForAddr, checked first) or user
	// holds perUser (ErrTooManyForUser); a bound <= 0 is none. release
	// gives the slot back; calling it again does nothing. Any other error
	// means the sessions could not be counted: the caller refuses the
	// session rather than let it past the limits. Acquire returns by
	// ctx's deadline at the latest.
	Acquire(ctx context.Context, user, addr string, perUser, perAddr int) (release func(), err error)
}
