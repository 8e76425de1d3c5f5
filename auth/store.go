package auth

import (
	"context"
	"time"
)

// Account is what a Store keeps of one account beside its keys and
// addresses.
type Account struct {
	Name string
	// PasswordHash is the encoded slow hash, or a marker no password
	// matches (an account made by `user key add` alone).
	PasswordHash string
	Created      time.Time // to the second
	// Disabled: the account's deletion has begun (see Disable).
	Disabled bool
}

// Key is a registered public key.
type Key struct {
	Blob []byte // the key in SSH wire form (ssh.PublicKey.Marshal): its identity
	Line string // its authorized_keys line: type, base64 and the comment if any
}

// Store keeps the accounts, their public keys and the addresses they
// logged in from. It holds no rules: Accounts decides who gets in, the
// store only remembers. A method that finds no account named name returns
// ErrNoAccount itself, unwrapped; other failures name the operation and
// the account. Every method is safe for concurrent use, also by several
// processes sharing the store.
type Store interface {
	// Account returns name's account.
	Account(ctx context.Context, name string) (Account, error)
	// Create adds an account unless name is taken, atomically: of
	// concurrent creates of one name exactly one reports created.
	Create(ctx context.Context, name, passwordHash string, at time.Time) (created bool, err error)
	// SetPasswordHash replaces name's password hash.
	SetPasswordHash(ctx context.Context, name, passwordHash string) error
	// Delete removes name's account with its keys, its addresses and its
	// deletion mark.
	Delete(ctx context.Context, name string) error
	// Names returns every account's name in byte order.
	Names(ctx context.Context) ([]string, error)

	// Disable marks name's deletion as begun at at, unless it already was,
	// and returns when it began.
	Disable(ctx context.Context, name string, at time.Time) (since time.Time, err error)
	// Active returns, of names, the accounts that exist and are not
	// disabled, with their creation times; names that are not accounts are
	// left out. Its cost must not grow with one query per name.
	Active(ctx context.Context, names []string) (map[string]time.Time, error)

	// AddKey registers key for name's account (which must exist); a key
	// already registered for it stays as it was.
	AddKey(ctx context.Context, name string, key Key) error
	// Keys returns name's keys ordered by Blob (bytewise); none for an
	// unknown account.
	Keys(ctx context.Context, name string) ([]Key, error)
	// HasKey reports whether the key of wire form blob is registered for
	// name, whether or not the account is disabled.
	HasKey(ctx context.Context, name string, blob []byte) (bool, error)
	// DeleteKey removes one of name's keys; deleted says whether it was
	// there.
	DeleteKey(ctx context.Context, name string, blob []byte) (deleted bool, err error)

	// LastLogin returns when name last logged in from host, if host is
	// one of the addresses it keeps.
	LastLogin(ctx context.Context, name, host string) (last time.Time, known bool, err error)
	// RememberAddress records a good login of name from host at at and
	// keeps only name's keep most recent addresses (ties by host). Nothing
	// is kept if the account does not exist; that is no error.
	RememberAddress(ctx context.Context, name, host string, at time.Time, keep int) error
}
