package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
)

// failing makes one step of deleteUser fail.
type failing struct {
	accountSteps
	fileSteps
	step string
}

var errInjected = errors.New("injected failure")

func (f failing) Disable(ctx context.Context, name string) (time.Time, error) {
	if f.step == "disable" {
		return time.Time{}, errInjected
	}
	return f.accountSteps.Disable(ctx, name)
}

func (f failing) RemoveOwnedBy(ctx context.Context, owner string) (int, error) {
	if f.step == "files" {
		// Half done: one file gone, then the failure.
		if err := f.fileSteps.(*files.Service).Remove(ctx, owner, "b1"); err != nil {
			return 0, err
		}
		return 1, errInjected
	}
	return f.fileSteps.RemoveOwnedBy(ctx, owner)
}

func (f failing) Delete(ctx context.Context, name string) error {
	if f.step == "account" {
		return errInjected
	}
	return f.accountSteps.Delete(ctx, name)
}

// A failure at any step of user del leaves the account disabled (or, if
// disabling failed, untouched), never half deleted: nobody can log in
// under the name or take it by signup. Running it again finishes.
func TestDeleteUserFailureLeavesAccountDisabled(t *testing.T) {
	for _, step := range []string{"disable", "files", "account"} {
		t.Run(step, func(t *testing.T) {
			ctx := context.Background()
			a := openTestApp(t, t.TempDir())
			if err := a.Accounts.Login(ctx, "bob", "bob-pw", "192.0.2.1:1"); err != nil {
				t.Fatal(err)
			}
			putFile(t, a, "bob", "b1", "content of b1")
			putFile(t, a, "bob", "b2", "content of b2")
			f := failing{accountSteps: a.Accounts, fileSteps: a.Files, step: step}
			_, err := deleteUser(ctx, f, f, a.retryOnFull, "bob", 0)
			if !errors.Is(err, errInjected) {
				t.Fatalf("deleteUser with %s failing: %v, want the injected failure", step, err)
			}
			loginErr := a.Accounts.Login(ctx, "bob", "bob-pw", "192.0.2.1:1")
			signupErr := a.Accounts.Login(ctx, "bob", "someone-elses-pw", "192.0.2.2:1")
			mayStore, _ := a.Accounts.MayStore(ctx, "bob")
			exists, _ := a.Accounts.Exists(ctx, "bob")
			if step == "disable" {
				if loginErr != nil || !mayStore {
					t.Errorf("disabling failed, yet the account changed: login %v, may store %v", loginErr, mayStore)
				}
			} else {
				if !exists || !errors.Is(loginErr, auth.ErrDenied) || !errors.Is(signupErr, auth.ErrDenied) || mayStore {
					t.Errorf("after a failure at %s: exists %v, login %v, signup %v, may store %v; want a disabled account",
						step, exists, loginErr, signupErr, mayStore)
				}
				if step == "account" && !strings.Contains(err.Error(), "run user del again") {
					t.Errorf("error %q does not say to run user del again", err)
				}
			}

			// Again, without the failure: everything goes.
			if _, err := deleteUser(ctx, a.Accounts, a.Files, a.retryOnFull, "bob", 0); err != nil {
				t.Fatalf("deleteUser again: %v", err)
			}
			if exists, _ := a.Accounts.Exists(ctx, "bob"); exists {
				t.Errorf("bob still exists")
			}
			for _, name := range []string{"b1", "b2"} {
				if _, err := a.Files.Info(ctx, "alice", name); !errors.Is(err, files.ErrNotFound) {
					t.Errorf("%s outlived its owner: %v", name, err)
				}
			}
			// The name is free, and the new bob holds nothing of the old one.
			if err := a.Accounts.Login(ctx, "bob", "new-bob-pw", "192.0.2.3:1"); err != nil {
				t.Fatalf("signup of the freed name: %v", err)
			}
			if n, err := a.Files.RemoveOwnedBy(ctx, "bob"); n != 0 || err != nil {
				t.Errorf("the new bob owns %d files (%v)", n, err)
			}
		})
	}
}

// fullErr is SQLite's "database or disk is full".
type fullErr struct{}

func (fullErr) Error() string { return "database or disk is full (13)" }
func (fullErr) Code() int     { return 13 }

// fullOnce fails the first Disable as a full disk does.
type fullOnce struct {
	accountSteps
	failed bool
}

func (f *fullOnce) Disable(ctx context.Context, name string) (time.Time, error) {
	if !f.failed {
		f.failed = true
		return time.Time{}, fullErr{}
	}
	return f.accountSteps.Disable(ctx, name)
}

// On a full disk user del gives up the disk reserve and goes on.
func TestDeleteUserFullDisk(t *testing.T) {
	ctx := context.Background()
	a := openTestApp(t, t.TempDir())
	reserve := filepath.Join(a.opt.Data, ReserveFile)
	if _, err := os.Stat(reserve); err != nil {
		t.Fatalf("no disk reserve after Open: %v", err)
	}
	if err := a.Accounts.Login(ctx, "bob", "bob-pw", "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	acc := &fullOnce{accountSteps: a.Accounts}
	if _, err := deleteUser(ctx, acc, a.Files, a.retryOnFull, "bob", 0); err != nil {
		t.Fatalf("deleteUser on a full disk: %v", err)
	}
	if _, err := os.Stat(reserve); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the reserve was not released: %v", err)
	}
	if exists, _ := a.Accounts.Exists(ctx, "bob"); exists {
		t.Errorf("bob still exists")
	}
}
