package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// An account is deleted in steps (app.DeleteUser): first it is disabled,
// with a deletion mark in the store, then its sessions end and its files
// go, and last the account goes, the mark with it. A disabled account
// logs in neither by password nor by key, stores nothing, and keeps its
// name from open signup, so a step that fails leaves nothing anyone can
// reach under the name; running `user del` again finishes the job.

// Disable begins the deletion of an account: from now on it cannot log in
// and cannot store files. It returns when the deletion began, which is
// earlier if an unfinished deletion had already disabled it.
func (a *Accounts) Disable(ctx context.Context, name string) (time.Time, error) {
	since, err := a.store.Disable(ctx, name, time.Now())
	if errors.Is(err, ErrNoAccount) {
		return time.Time{}, fmt.Errorf("del %q: %w", name, ErrNoAccount)
	}
	return since, err
}

// Active returns, of names, those whose accounts exist and are not being
// deleted, each with its creation time (Unix seconds): a name deleted and
// signed up again is another account. One query however many names.
func (a *Accounts) Active(ctx context.Context, names []string) (map[string]int64, error) {
	active, err := a.store.Active(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(active))
	for n, created := range active {
		out[n] = created.Unix()
	}
	return out, nil
}

// MayStore reports whether user's account exists and is not being
// deleted, for files.Owners: a session that outlives its account by a
// moment must not leave a file behind.
func (a *Accounts) MayStore(ctx context.Context, user string) (bool, error) {
	acc, err := a.store.Account(ctx, user)
	if errors.Is(err, ErrNoAccount) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !acc.Disabled, nil
}
