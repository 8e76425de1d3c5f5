package auth_test

import (
	"context"
	"testing"

	"github.com/sshelf/sshelf/auth"
)

// A disabled account (its deletion begun) logs in neither by password nor
// by key, keeps its name from open signup, and stores nothing; deleting
// its row frees the name for a new account.
func TestDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	wantErr(t, "signup", a.Login(ctx, "bob", "bob-pw", addr), nil)
	pub, line := newKey(t)
	wantErr(t, "key add", a.AddKey(ctx, "bob", line), nil)
	wantErr(t, "signup", a.Login(ctx, "carol", "carol-pw", addr), nil)

	since, err := a.Disable(ctx, "bob")
	wantErr(t, "disable", err, nil)
	again, err := a.Disable(ctx, "bob")
	wantErr(t, "disable again", err, nil)
	if !again.Equal(since) {
		t.Errorf("disabling again moved the start of the deletion: %v, then %v", since, again)
	}
	_, err = a.Disable(ctx, "nobody")
	wantErr(t, "disable an unknown account", err, auth.ErrNoAccount)

	for _, c := range []struct {
		what string
		err  error
	}{
		{"password login", a.Login(ctx, "bob", "bob-pw", addr)},
		{"key login", a.LoginKey(ctx, "bob", pub, addr)},
		{"open signup of the name", a.Login(ctx, "bob", "another-pw", addr)},
		{"passwd", a.ChangePassword(ctx, "bob", "bob-pw", "new-pw", addr)},
	} {
		wantErr(t, c.what+" of a disabled account", c.err, auth.ErrDenied)
	}
	// A key added meanwhile does not let it in either.
	_, line2 := newKey(t)
	wantErr(t, "key add", a.AddKey(ctx, "bob", line2), nil)
	wantErr(t, "key login with a key added after disabling", a.LoginKey(ctx, "bob", pub, addr), auth.ErrDenied)

	active, err := a.Active(ctx, []string{"bob", "carol", "nobody"})
	wantErr(t, "active", err, nil)
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

	wantErr(t, "delete", a.Delete(ctx, "bob"), nil)
	var marks int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_deletions`).Scan(&marks); err != nil || marks != 0 {
		t.Errorf("deletion marks left: %d, %v", marks, err)
	}
	wantErr(t, "signup of the freed name", a.Login(ctx, "bob", "new-bob-pw", addr), nil)
	wantErr(t, "the old key", a.LoginKey(ctx, "bob", pub, addr), auth.ErrDenied)
	if ok, _ := a.MayStore(ctx, "bob"); !ok {
		t.Errorf("the new bob may not store")
	}
}

// Active answers for many names with one query.
func TestActiveManyNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, true, lenient)
	wantErr(t, "signup", a.Login(ctx, "u1", "pw", addr), nil)
	names := []string{"u1"}
	for i := range 5000 {
		names = append(names, "x"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
	}
	active, err := a.Active(ctx, names)
	wantErr(t, "active", err, nil)
	if len(active) != 1 {
		t.Errorf("active = %v, want u1 only", active)
	}
	if active, err := a.Active(ctx, nil); err != nil || len(active) != 0 {
		t.Errorf("Active(nil) = %v, %v", active, err)
	}
}
