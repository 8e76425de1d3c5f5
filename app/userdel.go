package app

import (
	"context"
	"fmt"
	"time"

	"github.com/sshelf/sshelf/sshd"
)

// deleteGrace is how long after disabling an account `user del` waits
// before removing its files: the server, another process, closes the
// account's connections at its next check (sshd.AccountCheckInterval).
// Waiting also keeps the name from a new signup for that long, so the new
// account's creation time differs from the old one's, which the server
// uses to tell them apart.
const deleteGrace = 2 * sshd.AccountCheckInterval

// The steps of deleteUser, as auth.Accounts and files.Service do them.
type (
	accountSteps interface {
		Disable(ctx context.Context, name string) (time.Time, error)
		Delete(ctx context.Context, name string) error
	}
	fileSteps interface {
		RemoveOwnedBy(ctx context.Context, owner string) (int, error)
	}
)

// deleteUser deletes an account in an order where a failure at any step
// leaves nothing reachable under its name: (1) disable it, so it logs in
// no more and open signup cannot take the name; (2) give the server grace
// to end its sessions; (3) remove its files; (4) delete the account. A
// failure leaves the account disabled; running it again finishes. Each
// step goes through retry, which frees the disk reserve on a full disk.
func deleteUser(ctx context.Context, acc accountSteps, fs fileSteps, retry func(string, func() error) error,
	name string, grace time.Duration) (int, error) {
	var since time.Time
	err := retry("user del", func() (err error) {
		since, err = acc.Disable(ctx, name)
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := waitUntil(ctx, since.Add(grace)); err != nil {
		return 0, fmt.Errorf("del %q: %w", name, err)
	}
	var n int
	err = retry("user del", func() (err error) {
		n, err = fs.RemoveOwnedBy(ctx, name)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("del %q: %w (the account stays disabled; run user del again)", name, err)
	}
	if err := retry("user del", func() error { return acc.Delete(ctx, name) }); err != nil {
		return n, fmt.Errorf("%w (the account stays disabled; run user del again)", err)
	}
	return n, nil
}

func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
