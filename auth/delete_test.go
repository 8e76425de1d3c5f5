package auth_test

import (
	"context"
	"testing"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/testkit"
)

// A disabled account (its deletion begun) logs in neither by password nor
// by key, keeps its name from open signup, and stores nothing; deleting
// its row frees the name for a new account.
func TestDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	testkit.WantErr(t, "signup", a.Login(ctx, "bob", "bob-pw", addr), nil)
	pub, line := newKey(t)
	testkit.WantErr(t, "key add", a.AddKey(ctx, "bob", line), nil)
	testkit.WantErr(t, "signup", a.Login(ctx, "carol", "carol-pw", addr), nil)

	since, err := a.Disable(ctx, "bob")
	testkit.WantErr(t, "disable", err, nil)
	again, err := a.Disable(ctx, "bob")
	testkit.WantErr(t, "disable again", err, nil)
	if !again.Equal(since) {
		t.Errorf("disabling again moved the start of the deletion: %v, then %v", since, again)
	}
	_, err = a.Disable(ctx, "nobody")
	testkit.WantErr(t, "disable an unknown account", err, auth.ErrNoAccount)

	for _, c := range []struct {
		what string
		err  error
	}{
		{"password login", a.Login(ctx, "bob", "bob-pw", addr)},
		{"key login", a.LoginKey(ctx, "bob", pub, addr)},
		{"open signup of the name", a.Login(ctx, "bob", "another-pw", addr)},
		{"passwd", a.ChangePassword(ctx, "bob", "bob-pw", "new-pw", addr)},
	} {
		testkit.WantErr(t, c.what+" of a disabled account", c.err, auth.ErrDenied)
	}
	// A key added meanwhile does not let it in either.
	_, line2 := newKey(t)
	testkit.WantErr(t, "key add", a.AddKey(ctx, "bob", line2), nil)
	testkit.WantErr(t, "key login with a key added after disabling", a.LoginKey(ctx, "bob", pub, addr), auth.ErrDenied)

	active, err := a.Active(ctx, []string{"bob", "carol", "nobody"})
	testkit.WantErr(t, "active", err, nil)
	if _, ok := active["bob"]; ok || len(active) != 1 {
		t.Errorf("active = %v, want carol only", active)
	}
	for user, want := range map[string]bool{"bob": false, "carol": true, "nobody": false} {
		if ok, err := a.MayStore(ctx, user); ok != want || err != nil {
			t.Errorf("MayStore(%s) = %v, %v; want %v", user, ok, err, want)
		}
	}
	if ok, _ := a.Exists(ctx, "bob"); !ok {
		t.Errorf("a disabled account no longer exists: its name is free")
	}

	testkit.WantErr(t, "delete", a.Delete(ctx, "bob"), nil)
	var marks int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_deletions`).Scan(&marks); err != nil || marks != 0 {
		t.Errorf("deletion marks left: %d, %v", marks, err)
	}
	testkit.WantErr(t, "signup of the freed name", a.Login(ctx, "bob", "new-bob-pw", addr), nil)
	testkit.WantErr(t, "the old key", a.LoginKey(ctx, "bob", pub, addr), auth.ErrDenied)
	if ok, _ := a.MayStore(ctx, "bob"); !ok {
		t.Errorf("the new bob may not store")
	}
}

// Active answers for many names with one query.
func TestActiveManyNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	testkit.WantErr(t, "signup", a.Login(ctx, "u1", "pw", addr), nil)
	names := []string{"u1"}
	for i := range 5000 {
		names = append(names, "x"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
	}
	active, err := a.Active(ctx, names)
	testkit.WantErr(t, "active", err, nil)
	if len(active) != 1 {
		t.Errorf("active = %v, want u1 only", active)
	}
	if active, err := a.Active(ctx, nil); err != nil || len(active) != 0 {
		t.Errorf("Active(nil) = %v, %v", active, err)
	}
}
