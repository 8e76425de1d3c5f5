package auth

import (
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
)

// What the tests of package auth_test (which run the rules over
// auth/sqlite, a package that imports this one) reach inside for.

const KnownAddresses = knownAddresses

type Hasher = hasher

func (a *Accounts) SetClock(now func() time.Time) { a.setClock(now) }
func (a *Accounts) Hasher() Hasher                { return a.hasher }
func (a *Accounts) SetHasher(h Hasher)            { a.hasher = h }

func (a *Accounts) LoginLimiter() *throttle.Limiter     { return a.login }
func (a *Accounts) SetLoginLimiter(l *throttle.Limiter) { a.login = l }
