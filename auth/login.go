package auth

import (
	"context"
	"errors"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/internal/throttle"
)

// Login is Authenticate without saying whether an account was created.
func (a *Accounts) Login(ctx context.Context, user, password, addr string) error {
	_, err := a.Authenticate(ctx, user, password, addr)
	return err
}

// Authenticate checks a password for user connecting from addr. With open
// signup an unknown user is created with this password (created says so).
// A wrong password and an unknown user cost the same and get the same
// error. Each attempt takes its slot before the check, on the address and,
// unless user logged in from this address before, on the account; a
// *Refusal says which is blocked, and for how long.
func (a *Accounts) Authenticate(ctx context.Context, user, password, addr string) (created bool, err error) {
	host := hostOf(addr)
	if ValidUsername(user) != nil {
		// Never an account, so refusing it at once tells nothing; it
		// still counts against the address.
		t, err := a.login.Reserve(ctx, addrKey(host))
		if err != nil {
			return false, refusal(err, user, host)
		}
		return false, a.failed(ctx, t)
	}
	keys, known, err := a.loginKeys(ctx, user, host)
	if err != nil {
		return false, err
	}
	t, err := a.login.Reserve(ctx, keys...)
	if err != nil {
		if t, err = a.cannotCount(ctx, err, known, user, host); err != nil {
			return false, err
		}
	}
	ok, created, err := a.checkPassword(ctx, user, password, host)
	if err != nil {
		// No verdict on the password (a signup cap, a store failure).
		if rerr := t.Refund(ctx); rerr != nil {
			a.log.Warn("refund a login attempt", "err", rerr)
		}
		return false, err
	}
	if !ok {
		return false, a.failed(ctx, t)
	}
	a.succeeded(ctx, t, user, host)
	return created, nil
}

// loginKeys are the keys a password attempt for user from host counts on:
// the address, and the account unless the address is one its owner used
// (known).
func (a *Accounts) loginKeys(ctx context.Context, user, host string) (keys []string, known bool, err error) {
	known, err = a.knownAddress(ctx, user, host)
	if err != nil {
		return nil, false, err
	}
	if known {
		return []string{addrKey(host)}, true, nil
	}
	return []string{addrKey(host), userKey(user)}, false, nil
}

// cannotCount handles a reservation that failed. A refusal stays one. If
// the store cannot write (a full disk), the owner still gets in from an
// address she used, unless it is blocked, with the attempt uncounted;
// everyone else is refused.
func (a *Accounts) cannotCount(ctx context.Context, err error, known bool, user, host string) (*throttle.Ticket, error) {
	var r *throttle.Refused
	if errors.As(err, &r) || !known {
		return nil, refusal(err, user, host)
	}
	if berr := a.login.Blocked(ctx, addrKey(host)); berr != nil {
		return nil, refusal(berr, user, host)
	}
	a.log.Error("login attempt not counted: the owner's known address is let in", "user", user, "addr", host, "err", err)
	return nil, nil
}

func (a *Accounts) checkPassword(ctx context.Context, user, password, host string) (ok, created bool, err error) {
	if password == "" {
		// Always refused, whatever the account: nothing to hide by hashing.
		return false, false, nil
	}
	stored, err := a.passwordHash(ctx, user)
	if errors.Is(err, ErrNoAccount) {
		if !a.signupOpen {
			a.hasher.Dummy(ctx, password)
			return false, false, nil
		}
		created, err := a.signUp(ctx, user, password, host)
		if err != nil || created {
			return created, created, err
		}
		// Someone else created it meanwhile: check against theirs.
		if stored, err = a.passwordHash(ctx, user); err != nil {
			return false, false, err
		}
	} else if err != nil {
		return false, false, err
	}
	if stored == noPassword {
		a.hasher.Dummy(ctx, password)
		return false, false, nil
	}
	ok, err = a.hasher.Verify(ctx, password, stored)
	return ok, false, err
}

// signUp creates user at first login, within the per-address cap.
func (a *Accounts) signUp(ctx context.Context, user, password, host string) (bool, error) {
	t, err := a.signup.Reserve(ctx, signupKey(host))
	if err != nil {
		return false, refusal(err, user, host)
	}
	created, err := a.create(ctx, user, password, true)
	if err != nil || !created {
		if rerr := t.Refund(ctx); rerr != nil {
			a.log.Warn("refund a signup", "err", rerr)
		}
		return false, err
	}
	if err := t.Keep(ctx); err != nil {
		a.log.Warn("count a signup", "err", err)
	}
	a.log.Info("account created at first login", "user", user, "addr", host)
	return true, nil
}

// noPassword marks an account made by `user key add` alone.
const noPassword = "!"

// failed keeps a failed attempt and delays the answer.
func (a *Accounts) failed(ctx context.Context, t *throttle.Ticket) error {
	d, _, err := t.Fail(ctx)
	if err != nil {
		a.log.Warn("count a failed login", "err", err)
	}
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	return ErrDenied
}

// succeeded gives the attempt's slot back, forgets the account's failures
// (not a lockout in force) and remembers the address.
func (a *Accounts) succeeded(ctx context.Context, t *throttle.Ticket, user, host string) {
	if err := t.Refund(ctx, userKey(user)); err != nil {
		a.log.Warn("refund a login attempt", "err", err)
	}
	if err := a.rememberAddress(ctx, user, host); err != nil {
		a.log.Warn("login", "err", err)
	}
}

// LoginKey checks that key is registered for user. It is refused only when
// the address is blocked: a lockout of the account never blocks its keys,
// and an unregistered key is no failure (every client offers its keys
// before a password).
func (a *Accounts) LoginKey(ctx context.Context, user string, key gossh.PublicKey, addr string) error {
	host := hostOf(addr)
	if err := a.login.Blocked(ctx, addrKey(host)); err != nil {
		return refusal(err, user, host)
	}
	if ValidUsername(user) != nil {
		return ErrDenied
	}
	has, err := a.store.HasKey(ctx, user, key.Marshal())
	if err != nil || !has {
		return denied(err)
	}
	// A disabled account logs in by no key, even one added since.
	acc, err := a.store.Account(ctx, user)
	if errors.Is(err, ErrNoAccount) || err == nil && acc.Disabled {
		return ErrDenied
	}
	return err
}

// denied is err, or ErrDenied for none.
func denied(err error) error {
	if err != nil {
		return err
	}
	return ErrDenied
}

// KeyVerified records that user proved a registered key from addr: addr
// becomes an address the account logged in from. LoginKey alone is not
// enough, since a client may ask whether a public key would do without
// holding its private half.
func (a *Accounts) KeyVerified(ctx context.Context, user, addr string) error {
	return a.rememberAddress(ctx, user, hostOf(addr))
}

// ChangePassword replaces an account's password given the old one, as a
// logged-in user does with `passwd`. A wrong old password counts as a
// failed login.
func (a *Accounts) ChangePassword(ctx context.Context, name, oldPassword, newPassword, addr string) error {
	if newPassword == "" {
		return ErrEmptyPass
	}
	host := hostOf(addr)
	keys, _, err := a.loginKeys(ctx, name, host)
	if err != nil {
		return err
	}
	t, err := a.login.Reserve(ctx, keys...)
	if err != nil {
		return refusal(err, name, host)
	}
	stored, err := a.passwordHash(ctx, name)
	if err != nil {
		t.Refund(ctx)
		return err
	}
	ok := false
	if stored == noPassword { // a key-only account: no old password can match
		a.hasher.Dummy(ctx, oldPassword)
	} else if ok, err = a.hasher.Verify(ctx, oldPassword, stored); err != nil {
		t.Refund(ctx)
		return err
	}
	if !ok {
		return a.failed(ctx, t)
	}
	if err := t.Refund(ctx, userKey(name)); err != nil {
		a.log.Warn("refund a login attempt", "err", err)
	}
	return a.SetPassword(ctx, name, newPassword)
}
