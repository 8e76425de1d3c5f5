package files

import (
	"context"
	"errors"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Rule 3: a protected file's SHA-256 is shown only to its owner or with its
// password, through Info, InfoWithPassword, Sum and List alike.
func TestProtectedHashShown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	secret := e.mustPut(t, "alice", PutOptions{Name: "secret", Password: "pw"}, []byte("PIN 1234"))
	open := e.mustPut(t, "alice", PutOptions{Name: "open"}, []byte("public"))

	tests := []struct {
		name, user, file, password string
		wantHash                   string // "" withheld
		wantErr                    error
	}{
		{"owner", "alice", "secret", "", secret.SHA256, nil},
		{"owner with a wrong password (not checked)", "alice", "secret", "nope", secret.SHA256, nil},
		{"other", "bob", "secret", "", "", nil},
		{"other with the password", "bob", "secret", "pw", secret.SHA256, nil},
		{"other with a wrong password", "bob", "secret", "nope", "", ErrWrongPassword},
		{"unprotected to other", "bob", "open", "", open.SHA256, nil},
		{"unprotected to other with any password", "bob", "open", "x", open.SHA256, nil},
	}
	for _, tt := range tests {
		t.Run("InfoWithPassword/"+tt.name, func(t *testing.T) {
			f, err := e.svc.InfoWithPassword(ctx, tt.user, tt.file, tt.password)
			testkit.WantErr(t, "InfoWithPassword", err, tt.wantErr)
			if err == nil {
				checkHash(t, f, tt.wantHash)
			}
		})
	}
	for _, tt := range tests {
		t.Run("Sum/"+tt.name, func(t *testing.T) {
			want := tt.wantErr
			if want == nil && tt.wantHash == "" {
				want = ErrPasswordRequired // sum refuses rather than print no hash
			}
			f, err := e.svc.Sum(ctx, tt.user, tt.file, tt.password)
			testkit.WantErr(t, "Sum", err, want)
			if err == nil {
				checkHash(t, f, tt.wantHash)
			}
		})
	}
	t.Run("Info", func(t *testing.T) {
		for user, want := range map[string]string{"alice": secret.SHA256, "bob": ""} {
			f, err := e.svc.Info(ctx, user, "secret")
			if err != nil {
				t.Fatal(err)
			}
			checkHash(t, f, want)
		}
	})
	t.Run("List", func(t *testing.T) {
		for user, want := range map[string]string{"alice": secret.SHA256, "bob": ""} {
			page, err := e.svc.List(ctx, user, "", 10)
			if err != nil || len(page) != 2 {
				t.Fatalf("List as %s: %v, %v", user, page, err)
			}
			checkHash(t, page[0], open.SHA256) // "open" < "secret"
			checkHash(t, page[1], want)
			sorted, err := e.svc.ListSorted(ctx, user, ListQuery{Sort: SortBySize, Limit: 10})
			if err != nil || len(sorted) != 2 {
				t.Fatalf("ListSorted as %s: %v, %v", user, sorted, err)
			}
			for _, f := range sorted {
				if f.Name == "secret" {
					checkHash(t, f, want)
				} else {
					checkHash(t, f, open.SHA256)
				}
			}
		}
	})
}

func checkHash(t *testing.T, f File, want string) {
	t.Helper()
	if f.SHA256 != want {
		t.Errorf("%s: sha256 %q, want %q", f.Name, f.SHA256, want)
	}
	if !f.Protected && f.SHA256 == "" {
		t.Errorf("%s: unprotected, yet its hash is withheld", f.Name)
	}
}

// A wrong password given to Sum or InfoWithPassword is a counted try, like
// a download's: they cannot be used to guess beyond the limit.
func TestHashPasswordTriesCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t) // 3 failures lock
	e.mustPut(t, "alice", PutOptions{Name: "secret", Password: "pw"}, []byte("PIN 1234"))

	_, err := e.svc.Sum(ctx, "bob", "secret", "bad1")
	testkit.WantErr(t, "Sum wrong", err, ErrWrongPassword)
	_, err = e.svc.InfoWithPassword(ctx, "bob", "secret", "bad2")
	testkit.WantErr(t, "Info wrong", err, ErrWrongPassword)
	// The third wrong one locks (whether it says so itself or the next
	// try does is the throttle's business).
	if _, err = e.svc.Open(ctx, "bob", "secret", "bad3"); !errors.Is(err, ErrThrottled) && !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Open wrong: %v", err)
	}
	_, err = e.svc.Sum(ctx, "bob", "secret", "pw")
	testkit.WantErr(t, "Sum right, locked", err, ErrThrottled)
	_, err = e.svc.InfoWithPassword(ctx, "bob", "secret", "pw")
	testkit.WantErr(t, "Info right, locked", err, ErrThrottled)
	// Info without a password tries nothing and still answers.
	f, err := e.svc.Info(ctx, "bob", "secret")
	testkit.WantErr(t, "Info without password, locked", err, nil)
	checkHash(t, f, "")
}

// Names stored under the older rule stay removable and renamable by their
// owner, while every other operation refuses them.
func TestLegacyInvalidName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	for _, legacy := range []string{"cafe\u0301", "evil\u202etxt", "zw\u200bsp"} {
		// Put the record in as an older server would have.
		good := e.mustPut(t, "alice", PutOptions{Name: "tmp"}, []byte("old"))
		if _, err := e.catalog.Rename(ctx, "tmp", legacy, func(Record, *Record) error { return nil }); err != nil {
			t.Fatalf("catalog rename to %q: %v", legacy, err)
		}

		_, err := e.svc.Info(ctx, "alice", legacy)
		testkit.WantErr(t, "Info "+legacy, err, ErrBadName)
		_, err = e.svc.Open(ctx, "alice", legacy, "")
		testkit.WantErr(t, "Open "+legacy, err, ErrBadName)
		_, err = e.svc.Create(ctx, "alice", PutOptions{Name: legacy, Size: -1})
		testkit.WantErr(t, "Create "+legacy, err, ErrBadName)
		testkit.WantErr(t, "bob removes "+legacy, e.svc.Remove(ctx, "bob", legacy), ErrPermission)

		testkit.WantErr(t, "rename "+legacy, e.svc.Rename(ctx, "alice", legacy, "rescued"), nil)
		f, err := e.svc.Info(ctx, "alice", "rescued")
		if err != nil || f.SHA256 != good.SHA256 {
			t.Fatalf("rescued: %+v, %v", f, err)
		}
		if _, err := e.catalog.Rename(ctx, "rescued", legacy, func(Record, *Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		testkit.WantErr(t, "rm "+legacy, e.svc.Remove(ctx, "alice", legacy), nil)
		_, err = e.catalog.Lookup(ctx, legacy)
		testkit.WantErr(t, "lookup after rm", err, ErrNotFound)
	}
}
