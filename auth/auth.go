// Package auth keeps sshelf's accounts: password hashes, public keys, the
// signup policy and the throttling of failed logins.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
)

// Config sets the signup policy and login throttling.
type Config struct {
	SignupOpen bool
	Throttle   throttle.Policy
	Logger     *slog.Logger
}

// Accounts is the account store with its login policy.
type Accounts struct {
	db         *sql.DB
	hasher     *passhash.Hasher
	signupOpen bool
	byAddr     *throttle.Limiter
	byUser     *throttle.Limiter
	log        *slog.Logger
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
	return &Accounts{
		db:         db,
		hasher:     hasher,
		signupOpen: cfg.SignupOpen,
		byAddr:     throttle.New(cfg.Throttle),
		byUser:     throttle.New(cfg.Throttle),
		log:        log,
	}, nil
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

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func (a *Accounts) passwordHash(ctx context.Context, name string) (string, error) {
	var h string
	err := a.db.QueryRowContext(ctx, `SELECT `+disabledHash+` FROM accounts WHERE name = ?`, name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNoAccount
	}
	return h, err
}

// Locked reports whether logins for user from addr are refused now.
func (a *Accounts) Locked(user, addr string) bool {
	l1, _ := a.byAddr.Locked(hostOf(addr))
	l2, _ := a.byUser.Locked(user)
	return l1 || l2
}

// Login checks a password for user connecting from addr. With open signup an
// unknown user is created with this password. A wrong password and an
// unknown user cost the same and get the same error; failures slow the
// answer and, past the limit, lock the address and the account out.
func (a *Accounts) Login(ctx context.Context, user, password, addr string) error {
	if a.Locked(user, addr) {
		return ErrLocked
	}
	ok, err := a.checkPassword(ctx, user, password)
	if err != nil {
		return err
	}
	if !ok {
		return a.failed(ctx, user, addr)
	}
	a.byUser.Succeed(user)
	return nil
}

func (a *Accounts) checkPassword(ctx context.Context, user, password string) (bool, error) {
	if ValidUsername(user) != nil || password == "" {
		a.hasher.Dummy(ctx, password)
		return false, nil
	}
	stored, err := a.passwordHash(ctx, user)
	if errors.Is(err, ErrNoAccount) {
		if !a.signupOpen {
			a.hasher.Dummy(ctx, password)
			return false, nil
		}
		created, err := a.create(ctx, user, password, true)
		if err != nil {
			return false, err
		}
		if created {
			a.log.Info("account created at first login", "user", user)
			return true, nil
		}
		// Someone else created it meanwhile: check against theirs.
		if stored, err = a.passwordHash(ctx, user); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if stored == noPassword {
		a.hasher.Dummy(ctx, password)
		return false, nil
	}
	return a.hasher.Verify(ctx, password, stored)
}

// noPassword marks an account made by `user key add` alone.
const noPassword = "!"

// failed records a failed login and delays the answer.
func (a *Accounts) failed(ctx context.Context, user, addr string) error {
	d := max(a.byAddr.Fail(hostOf(addr)), a.byUser.Fail(user))
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return ErrDenied
}

// LoginKey checks that key is registered for user.
func (a *Accounts) LoginKey(ctx context.Context, user string, key gossh.PublicKey, addr string) error {
	if a.Locked(user, addr) {
		return ErrLocked
	}
	if ValidUsername(user) != nil {
		return ErrDenied
	}
	var n int
	err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_keys WHERE name = ? AND key = ? AND`+
		fmt.Sprintf(notDisabled, "account_keys"), user, key.Marshal()).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		// An offered key that is not registered is how every client probes
		// before asking for a password: not counted as a failure.
		return ErrDenied
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

// ChangePassword replaces an account's password given the old one, as a
// logged-in user does with `passwd`. A wrong old password counts as a
// failed login.
func (a *Accounts) ChangePassword(ctx context.Context, name, oldPassword, newPassword, addr string) error {
	if newPassword == "" {
		return ErrEmptyPass
	}
	if a.Locked(name, addr) {
		return ErrLocked
	}
	stored, err := a.passwordHash(ctx, name)
	if err != nil {
		return err
	}
	if stored == noPassword { // a key-only account: no old password can match
		a.hasher.Dummy(ctx, oldPassword)
		return a.failed(ctx, name, addr)
	}
	ok, err := a.hasher.Verify(ctx, oldPassword, stored)
	if err != nil {
		return err
	}
	if !ok {
		return a.failed(ctx, name, addr)
	}
	return a.SetPassword(ctx, name, newPassword)
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
