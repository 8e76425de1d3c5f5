// Package auth keeps sshelf's accounts: password hashes, public keys, the
// signup policy and the throttling of failed logins.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/passhash"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/throttle/sqlitethrottle"
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
)

// Config sets the signup policy and login throttling.
type Config struct {
	SignupOpen bool
	// Throttle limits failed logins per address and per account.
	Throttle throttle.Policy
	// SignupsPerAddressPerHour caps the accounts open signup creates for
	// one address within an hour; 0: no cap.
	SignupsPerAddressPerHour int
	// Store keeps the attempts and lockouts; nil: tables in db.
	Store  throttle.Store
	Logger *slog.Logger
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
	db         *sql.DB
	hasher     hasher
	signupOpen bool
	login      *throttle.Limiter // failed logins, per address and per account
	signup     *throttle.Limiter // accounts created, per address
	log        *slog.Logger
	now        func() time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS accounts (
	name          TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_keys (
	name    TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
	key     BLOB NOT NULL,
	line    TEXT NOT NULL,
	PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_addresses (
	name TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
	host TEXT NOT NULL,
	last INTEGER NOT NULL, -- unix seconds of the last login from host
	PRIMARY KEY (name, host)
) WITHOUT ROWID;
`

// Open prepares the account tables in db.
func Open(ctx context.Context, db *sql.DB, hasher *passhash.Hasher, cfg Config) (*Accounts, error) {
	if _, err := db.ExecContext(ctx, schema+deletionSchema); err != nil {
		return nil, fmt.Errorf("accounts schema: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store := cfg.Store
	if store == nil {
		s, err := sqlitethrottle.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		store = s
	}
	signup := throttle.Policy{}
	if n := cfg.SignupsPerAddressPerHour; n > 0 {
		// No lockout: a sliding cap, a slot frees when its signup is an
		// hour old.
		signup = throttle.Policy{MaxFailures: n, Window: time.Hour}
	}
	return &Accounts{
		db:         db,
		hasher:     hasher,
		signupOpen: cfg.SignupOpen,
		login:      throttle.New(store, cfg.Throttle),
		signup:     throttle.New(store, signup),
		log:        log,
		now:        time.Now,
	}, nil
}

// setClock replaces the clock of the limits and of the address list, for
// tests.
func (a *Accounts) setClock(now func() time.Time) {
	a.now = now
	a.login.SetClock(now)
	a.signup.SetClock(now)
}

func (a *Accounts) passwordHash(ctx context.Context, name string) (string, error) {
	var h string
	err := a.db.QueryRowContext(ctx, `SELECT `+disabledHash+` FROM accounts WHERE name = ?`, name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNoAccount
	}
	return h, err
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
	res, err := a.db.ExecContext(ctx, `INSERT INTO accounts (name, password_hash, created) VALUES (?, ?, ?)
		ON CONFLICT(name) DO NOTHING`, name, h, time.Now().Unix())
	if err != nil {
		return false, fmt.Errorf("add account %q: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
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
	res, err := a.db.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE name = ?`, h, name)
	if err != nil {
		return fmt.Errorf("passwd %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("passwd %q: %w", name, ErrNoAccount)
	}
	return nil
}

// Delete removes an account and its keys.
func (a *Accounts) Delete(ctx context.Context, name string) error {
	res, err := a.db.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("del %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("del %q: %w", name, ErrNoAccount)
	}
	return nil
}

// List returns account names, sorted.
func (a *Accounts) List(ctx context.Context) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT name FROM accounts ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// Exists reports whether the account exists.
func (a *Accounts) Exists(ctx context.Context, name string) (bool, error) {
	_, err := a.passwordHash(ctx, name)
	if errors.Is(err, ErrNoAccount) {
		return false, nil
	}
	return err == nil, err
}

// AddKey registers one authorized_keys line for an account.
func (a *Accounts) AddKey(ctx context.Context, name, line string) error {
	key, _, _, _, err := gossh.ParseAuthorizedKey([]byte(strings.TrimSpace(line)))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	if err := ValidUsername(name); err != nil {
		return err
	}
	// An account made for a key alone has no password that can match.
	_, err = a.db.ExecContext(ctx, `INSERT INTO accounts (name, password_hash, created) VALUES (?, ?, ?)
		ON CONFLICT(name) DO NOTHING`, name, noPassword, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("key add %q: %w", name, err)
	}
	_, err = a.db.ExecContext(ctx, `INSERT INTO account_keys (name, key, line) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, name, key.Marshal(), strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key))))
	if err != nil {
		return fmt.Errorf("key add %q: %w", name, err)
	}
	return nil
}
