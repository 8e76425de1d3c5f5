// Package auth keeps sshelf's accounts: password hashes, public keys, the
// signup policy and the throttling of failed logins.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/passhash"
	"github.com/sshelf/sshelf/internal/throttle"
)

// Sentinel errors.
var (
	ErrBadUsername = errors.New("invalid username: use 1-64 letters, digits, '.', '_' or '-', not starting with '-' or '.'")
	ErrExists      = errors.New("account exists")
	ErrNoAccount   = errors.New("no such account")
	ErrDenied      = errors.New("wrong username or password")
	ErrLocked      = errors.New("too many failed logins, try again later")
	ErrBadKey      = errors.New("invalid public key line")
	ErrEmptyPass   = errors.New("password must not be empty")
	ErrNoKey       = errors.New("no such key")
)

// Config sets the signup policy and login throttling.
type Config struct {
	SignupOpen bool
	// Throttle limits failed logins per address and per account.
	Throttle throttle.Policy
	// SignupsPerAddressPerHour caps the accounts open signup creates for
	// one address within an hour; 0: no cap.
	SignupsPerAddressPerHour int
	// Attempts keeps the attempts and lockouts; it may be nil only if
	// neither limit is enabled.
	Attempts throttle.Store
	Logger   *slog.Logger
}

// hasher is the slow password hash (internal/passhash), an interface so
// that tests can count the checks.
type hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (bool, error)
	Dummy(ctx context.Context, password string)
}

// Accounts is the account store with its login policy.
type Accounts struct {
	store      Store
	hasher     hasher
	signupOpen bool
	login      *throttle.Limiter // failed logins, per address and per account
	signup     *throttle.Limiter // accounts created, per address
	log        *slog.Logger
	now        func() time.Time
}

// New returns the accounts kept in store under the policy of cfg.
func New(store Store, hasher *passhash.Hasher, cfg Config) *Accounts {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	signup := throttle.Policy{}
	if n := cfg.SignupsPerAddressPerHour; n > 0 {
		// No lockout: a sliding cap, a slot frees when its signup is an
		// hour old.
		signup = throttle.Policy{MaxFailures: n, Window: time.Hour}
	}
	return &Accounts{
		store:      store,
		hasher:     hasher,
		signupOpen: cfg.SignupOpen,
		login:      throttle.New(cfg.Attempts, cfg.Throttle),
		signup:     throttle.New(cfg.Attempts, signup),
		log:        log,
		now:        time.Now,
	}
}

// setClock replaces the clock of the limits and of the address list, for
// tests.
func (a *Accounts) setClock(now func() time.Time) {
	a.now = now
	a.login.SetClock(now)
	a.signup.SetClock(now)
}

// passwordHash is name's password hash; a disabled account's is
// noPassword, so no password matches it.
func (a *Accounts) passwordHash(ctx context.Context, name string) (string, error) {
	acc, err := a.store.Account(ctx, name)
	if err != nil {
		return "", err
	}
	if acc.Disabled {
		return noPassword, nil
	}
	return acc.PasswordHash, nil
}

// ValidUsername checks an account name.
func ValidUsername(name string) error {
	if name == "" || len(name) > 64 || name[0] == '-' || name[0] == '.' {
		return ErrBadUsername
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return ErrBadUsername
		}
	}
	return nil
}

// create inserts an account; it reports false if the name was taken.
func (a *Accounts) create(ctx context.Context, name, password string, ignoreExisting bool) (bool, error) {
	if err := ValidUsername(name); err != nil {
		return false, err
	}
	if password == "" {
		return false, ErrEmptyPass
	}
	h, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return false, err
	}
	return a.store.Create(ctx, name, h, time.Now())
}

// Add creates an account.
func (a *Accounts) Add(ctx context.Context, name, password string) error {
	created, err := a.create(ctx, name, password, false)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("add %q: %w", name, ErrExists)
	}
	return nil
}

// SetPassword replaces an account's password.
func (a *Accounts) SetPassword(ctx context.Context, name, password string) error {
	if password == "" {
		return ErrEmptyPass
	}
	h, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := a.store.SetPasswordHash(ctx, name, h); err != nil {
		return fmt.Errorf("passwd %q: %w", name, err)
	}
	return nil
}

// Delete removes an account and its keys.
func (a *Accounts) Delete(ctx context.Context, name string) error {
	if err := a.store.Delete(ctx, name); err != nil {
		return fmt.Errorf("del %q: %w", name, err)
	}
	return nil
}

// List returns account names, sorted.
func (a *Accounts) List(ctx context.Context) ([]string, error) {
	return a.store.Names(ctx)
}

// Exists reports whether the account exists.
func (a *Accounts) Exists(ctx context.Context, name string) (bool, error) {
	_, err := a.store.Account(ctx, name)
	if errors.Is(err, ErrNoAccount) {
		return false, nil
	}
	return err == nil, err
}

// AddKey registers one authorized_keys line for an account.
func (a *Accounts) AddKey(ctx context.Context, name, line string) error {
	key, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	if err := ValidUsername(name); err != nil {
		return err
	}
	// An account made for a key alone has no password that can match.
	if _, err := a.store.Create(ctx, name, noPassword, time.Now()); err != nil {
		return fmt.Errorf("key add %q: %w", name, err)
	}
	// The comment is kept, so that `user key list` tells keys apart; the
	// options are not (no rule reads them).
	k := Key{Blob: key.Marshal(), Line: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key)))}
	if comment != "" {
		k.Line += " " + comment
	}
	if err := a.store.AddKey(ctx, name, k); err != nil {
		return fmt.Errorf("key add %q: %w", name, err)
	}
	return nil
}
