package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/sshelf/sshelf/internal/throttle"
)

// The throttle keys of logins and signups. Neither a host nor an account
// name holds a '/'.
func addrKey(host string) string   { return "login-addr/" + host }
func userKey(name string) string   { return "login-user/" + name }
func signupKey(host string) string { return "signup-addr/" + host }

// knownAddresses is how many recent addresses of good logins an account
// keeps: from these its owner gets in while the account is under attack.
const knownAddresses = 16

// What a Refusal blocks.
const (
	BlockedAddress = "address" // everything from Address
	BlockedAccount = "account" // password logins to Account from new addresses
	BlockedSignup  = "signup"  // new accounts from Address
)

// Refusal is a login refused by a limit, with what is blocked and for how
// long. errors.Is(r, ErrLocked) holds.
type Refusal struct {
	Blocked string // BlockedAddress, BlockedAccount or BlockedSignup
	Address string
	Account string
	Wait    time.Duration
}

func (r *Refusal) Is(target error) bool { return target == ErrLocked }

// Error is the text a client is shown (as an SSH banner, after "sshelf: ").
func (r *Refusal) Error() string {
	switch r.Blocked {
	case BlockedAccount:
		return fmt.Sprintf("account %s is locked for new addresses after too many failed logins; "+
			"try again in %v or log in from an address you used before or with your key", r.Account, r.Wait)
	case BlockedSignup:
		return fmt.Sprintf("too many accounts created from %s; try again in %v", r.Address, r.Wait)
	}
	return fmt.Sprintf("too many failed logins from %s; try again in %v", r.Address, r.Wait)
}

// refusal turns a throttle refusal on one of the keys of user and host into
// a Refusal; other errors pass through.
func refusal(err error, user, host string) error {
	var r *throttle.Refused
	if !errors.As(err, &r) {
		return err
	}
	out := &Refusal{Blocked: BlockedAddress, Address: host, Account: user, Wait: r.Wait}
	switch r.Key {
	case userKey(user):
		out.Blocked = BlockedAccount
	case signupKey(host):
		out.Blocked = BlockedSignup
	}
	return out
}

// hostOf is addr without its port.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// knownAddress reports whether name logged in from host recently.
func (a *Accounts) knownAddress(ctx context.Context, name, host string) (bool, error) {
	_, known, err := a.store.LastLogin(ctx, name, host)
	return known, err
}

// rememberAddress records a good login of name from host, keeping the most
// recent knownAddresses.
func (a *Accounts) rememberAddress(ctx context.Context, name, host string) error {
	if host == "" {
		return nil
	}
	// Most logins come from an address seen within the hour: no write.
	last, known, err := a.store.LastLogin(ctx, name, host)
	if err == nil && known && last.After(a.now().Add(-time.Hour)) {
		return nil
	}
	return a.store.RememberAddress(ctx, name, host, a.now(), knownAddresses)
}

// Unlock clears the failed logins and lockouts of target, an account name
// or an address (both, if it could be either), and an address's signup
// count. It returns what it cleared, e.g. ["address 127.0.0.2"].
func (a *Accounts) Unlock(ctx context.Context, target string) ([]string, error) {
	isIP := net.ParseIP(strings.Trim(target, "[]")) != nil
	if !isIP && ValidUsername(target) != nil {
		return nil, fmt.Errorf("unlock %q: neither an account name nor an IP address", target)
	}
	var done []string
	if isIP {
		host := strings.Trim(target, "[]")
		n, err := a.login.Clear(ctx, []string{addrKey(host), signupKey(host)}, nil)
		if err != nil {
			return nil, fmt.Errorf("unlock %s: %w", target, err)
		}
		if n > 0 {
			done = append(done, "address "+host)
		}
	}
	if ValidUsername(target) == nil {
		n, err := a.login.Clear(ctx, []string{userKey(target)}, nil)
		if err != nil {
			return nil, fmt.Errorf("unlock %s: %w", target, err)
		}
		if n > 0 {
			done = append(done, "account "+target)
		}
	}
	return done, nil
}
