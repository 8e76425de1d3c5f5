package files

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
)

func names(fs []File) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// Rule 1: listing shows public files only, sorted by name, in pages.
func TestListHidesHiddenSortedAndPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range []struct {
		user, name string
		hidden     bool
	}{
		{"alice", "c", false}, {"bob", "a", false}, {"alice", "secret", true},
		{"alice", "b", false}, {"bob", "B", false}, {"bob", "zz-hidden", true}, {"alice", "é", false},
	} {
		e.mustPut(t, p.user, PutOptions{Name: p.name, Hidden: p.hidden}, []byte(p.name))
	}
	all := []string{"B", "a", "b", "c", "é"} // byte order
	tests := []struct {
		name  string
		user  string
		after string
		limit int
		want  []string
	}{
		{"owner of hidden files sees none of them", "alice", "", 0, all},
		{"other user", "bob", "", 0, all},
		{"stranger", "carol", "", 100, all},
		{"first page", "alice", "", 2, []string{"B", "a"}},
		{"second page", "alice", "a", 2, []string{"b", "c"}},
		{"last page", "alice", "c", 2, []string{"é"}},
		{"past the end", "alice", "é", 2, []string{}},
		{"after a hidden name", "alice", "secret", 10, []string{"é"}},
		{"negative limit means all", "bob", "", -1, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // not parallel: the test changes the files below
			got, err := e.svc.List(ctx, tt.user, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tt.want) {
				t.Errorf("List(%q, after %q, limit %d) = %q, want %q", tt.user, tt.after, tt.limit, names(got), tt.want)
			}
			for _, f := range got {
				if f.Hidden {
					t.Errorf("listed hidden file %q", f.Name)
				}
			}
		})
	}

	// Hiding and unhiding move a file out of and back into the listing.
	if err := e.svc.SetHidden(ctx, "alice", "b", true); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.List(ctx, "alice", "", 0)
	if want := []string{"B", "a", "c", "é"}; !reflect.DeepEqual(names(got), want) {
		t.Errorf("after hide: %q, want %q", names(got), want)
	}
	if err := e.svc.SetHidden(ctx, "alice", "secret", false); err != nil {
		t.Fatal(err)
	}
	got, _ = e.svc.List(ctx, "bob", "", 0)
	if want := []string{"B", "a", "c", "secret", "é"}; !reflect.DeepEqual(names(got), want) {
		t.Errorf("after unhide: %q, want %q", names(got), want)
	}
}

// Rule 2: a hidden file known by its exact name can be inspected and
// downloaded by anyone.
func TestHiddenFileByExactName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	content := []byte("hidden content")
	put := e.mustPut(t, "alice", PutOptions{Name: "hidden.txt", Hidden: true}, content)
	if !put.Hidden || put.Visibility() != "hidden" || put.SHA256 != testkit.SHA256Hex(content) || put.Size != int64(len(content)) || put.Owner != "alice" {
		t.Fatalf("put returned %+v", put)
	}
	for _, user := range []string{"alice", "bob"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			f, err := e.svc.Info(ctx, user, "hidden.txt")
			if err != nil {
				t.Fatal(err)
			}
			if f.Name != "hidden.txt" || !f.Hidden || f.SHA256 != testkit.SHA256Hex(content) || f.Owner != "alice" ||
				f.Uploaded.Location() != time.UTC || f.Uploaded.IsZero() {
				t.Errorf("Info = %+v", f)
			}
			wantContent(t, "download", e.mustGet(t, user, "hidden.txt", ""), content)
			// Not a prefix, not a different case.
			for _, n := range []string{"hidden", "Hidden.txt", "hidden.txt "} {
				_, err := e.svc.Info(ctx, user, n)
				testkit.WantErr(t, "Info "+n, err, ErrNotFound)
				_, err = e.svc.Open(ctx, user, n, "")
				testkit.WantErr(t, "Open "+n, err, ErrNotFound)
			}
		})
	}
}

func TestBadNamesRefusedEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.mustPut(t, "alice", PutOptions{Name: "ok"}, []byte("x"))
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00", "\xff"} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			t.Parallel()
			ops := map[string]error{}
			_, ops["Info"] = e.svc.Info(ctx, "alice", bad)
			_, ops["Open"] = e.svc.Open(ctx, "alice", bad, "")
			_, ops["Create"] = e.svc.Create(ctx, "alice", PutOptions{Name: bad, Size: -1})
			ops["Remove"] = e.svc.Remove(ctx, "alice", bad)
			ops["Rename from"] = e.svc.Rename(ctx, "alice", bad, "ok2")
			ops["Rename to"] = e.svc.Rename(ctx, "alice", "ok", bad)
			ops["SetHidden"] = e.svc.SetHidden(ctx, "alice", bad, true)
			ops["Protect"] = e.svc.Protect(ctx, "alice", bad, "pw", "")
			ops["Unprotect"] = e.svc.Unprotect(ctx, "alice", bad, "pw")
			for op, err := range ops {
				testkit.WantErr(t, op, err, ErrBadName)
			}
		})
	}
	if _, err := e.svc.Info(ctx, "alice", "ok"); err != nil {
		t.Fatalf("ok was changed: %v", err)
	}
	e.assertTempEmpty(t)
}

// Rules 3 and 8: a protected file needs its download password, the
// owner's download too.
func TestProtectedDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(throttle.Policy{MaxFailures: 100, Window: time.Hour, Lockout: time.Hour}))
	ctx := context.Background()
	content := []byte("top secret")
	f := e.mustPut(t, "alice", PutOptions{Name: "p", Password: "pw"}, content)
	if !f.Protected {
		t.Fatalf("put with a password: %+v", f)
	}
	tests := []struct {
		user, password string
		want           error
	}{
		{"alice", "", ErrPasswordRequired},
		{"alice", "wrong", ErrWrongPassword},
		{"alice", "PW", ErrWrongPassword},
		{"alice", "pw ", ErrWrongPassword},
		{"alice", "pw", nil},
		{"bob", "", ErrPasswordRequired},
		{"bob", "wrong", ErrWrongPassword},
		{"bob", "pw", nil},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.password, func(t *testing.T) {
			t.Parallel()
			d, err := e.svc.Open(ctx, tt.user, "p", tt.password)
			testkit.WantErr(t, "Open", err, tt.want)
			if err != nil {
				if d != nil {
					t.Error("Open failed but returned a Download")
				}
				return
			}
			defer d.Close()
			b := make([]byte, 100)
			n, _ := d.Read(b)
			wantContent(t, "content", b[:n], content)
		})
	}
	// Info works without the password (rule 2: inspected whatever).
	info, err := e.svc.Info(ctx, "bob", "p")
	if err != nil || !info.Protected {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	// The stored hash is not the password.
	r, _ := e.catalog.Lookup(ctx, "p")
	if r.PasswordHash == "" || r.PasswordHash == "pw" || !r.Protected {
		t.Errorf("stored password hash %q", r.PasswordHash)
	}
}

// Rule 8: after N wrong passwords, the account's tries on that file are
// refused, the right password too, until the lockout ends; so are other
// accounts' tries on that file, but not its owner's.
func TestDownloadPasswordThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, Lockout: 10 * time.Minute}))
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e.svc.tries.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	for _, name := range []string{"p", "q", "r", "s"} {
		e.mustPut(t, "alice", PutOptions{Name: name, Password: "pw"}, []byte(name))
	}
	open := func(user, file, password string) func() error {
		return func() error { _, err := e.svc.Open(ctx, user, file, password); return err }
	}
	type step struct {
		what string
		do   func() error
		want error
	}
	run := func(steps []step) {
		t.Helper()
		for i, s := range steps {
			testkit.WantErr(t, fmt.Sprintf("step %d: %s", i, s.what), s.do(), s.want)
		}
	}
	run([]step{
		{"bob's first wrong try", open("bob", "p", "bad1"), ErrWrongPassword},
		{"bob's second", open("bob", "p", "bad2"), ErrWrongPassword},
		{"no password is not a wrong one", open("bob", "p", ""), ErrPasswordRequired},
		{"the third wrong one locks", open("bob", "p", "bad3"), ErrThrottled},
		{"even the right one", open("bob", "p", "pw"), ErrThrottled},
		{"no password while locked", open("bob", "p", ""), ErrThrottled},
		{"bob, another file", open("bob", "q", "pw"), nil},
		{"another account: the file is locked", open("carol", "p", "pw"), ErrThrottled},
		{"the owner is not locked out of her file", open("alice", "p", "pw"), nil},
		// Protection changes by the owner count too, on her own key.
		{"owner's wrong Unprotect", func() error { return e.svc.Unprotect(ctx, "alice", "q", "nope") }, ErrWrongPassword},
		{"owner's wrong Unprotect", func() error { return e.svc.Unprotect(ctx, "alice", "q", "nope") }, ErrWrongPassword},
		{"owner's third wrong Unprotect", func() error { return e.svc.Unprotect(ctx, "alice", "q", "nope") }, ErrThrottled},
		{"Unprotect locked, right password", func() error { return e.svc.Unprotect(ctx, "alice", "q", "pw") }, ErrThrottled},
		{"the owner's tries do not lock her file for others", open("bob", "q", "pw"), nil},
	})
	advance(10*time.Minute - time.Second)
	run([]step{{"just before the lockout ends", open("bob", "p", "pw"), ErrThrottled}})
	advance(time.Second)
	run([]step{
		{"when the lockout ends", open("bob", "p", "pw"), nil},
		{"Unprotect after the lockout", func() error { return e.svc.Unprotect(ctx, "alice", "q", "pw") }, nil},
		// A success forgets the account's own tries: two more wrong ones
		// and a right one, again and again, never lock the account...
		{"wrong", open("bob", "r", "bad"), ErrWrongPassword},
		{"right", open("bob", "r", "pw"), nil},
		{"wrong", open("bob", "r", "bad"), ErrWrongPassword},
		{"right", open("bob", "r", "pw"), nil},
		// ...but not the file's count across accounts: the third wrong
		// try on r since the lockout locks r for everyone but alice.
		{"wrong", open("bob", "r", "bad"), ErrThrottled},
		{"carol on r", open("carol", "r", "pw"), ErrThrottled},
		{"alice on r", open("alice", "r", "pw"), nil},
	})
	// Tries older than the window do not count.
	run([]step{
		{"wrong", open("bob", "s", "bad"), ErrWrongPassword},
		{"wrong", open("bob", "s", "bad"), ErrWrongPassword},
	})
	advance(11 * time.Minute)
	run([]step{{"wrong after the window", open("bob", "s", "bad"), ErrWrongPassword}})
}

// Rule 4: only the owner may delete, rename, hide, unhide or change
// protection.
func TestOnlyOwnerMayChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type op struct {
		name string
		do   func(s *Service, user string) error
	}
	ops := []op{
		{"Remove", func(s *Service, u string) error { return s.Remove(ctx, u, "f") }},
		{"Rename", func(s *Service, u string) error { return s.Rename(ctx, u, "f", "g") }},
		{"Rename onto self", func(s *Service, u string) error { return s.Rename(ctx, u, "f", "f") }},
		{"Hide", func(s *Service, u string) error { return s.SetHidden(ctx, u, "f", true) }},
		{"Unhide", func(s *Service, u string) error { return s.SetHidden(ctx, u, "f", false) }},
		{"Protect", func(s *Service, u string) error { return s.Protect(ctx, u, "f", "new", "pw") }},
		{"Unprotect", func(s *Service, u string) error { return s.Unprotect(ctx, u, "f", "pw") }},
	}
	for _, protected := range []bool{false, true} {
		for _, o := range ops {
			t.Run(fmt.Sprintf("%s/protected=%v", o.name, protected), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				pw := ""
				if protected {
					pw = "pw"
				}
				before := e.mustPut(t, "alice", PutOptions{Name: "f", Password: pw}, []byte("alice's"))
				testkit.WantErr(t, "bob: "+o.name, o.do(e.svc, "bob"), ErrPermission)
				after, err := e.svc.Info(ctx, "alice", "f") // the owner sees the hash too
				if err != nil {
					t.Fatal(err)
				}
				if after != before {
					t.Errorf("file changed by a refused %s: %+v -> %+v", o.name, before, after)
				}
				if _, err := e.svc.Info(ctx, "bob", "g"); !errors.Is(err, ErrNotFound) {
					t.Errorf("g exists after a refused %s: %v", o.name, err)
				}
				wantContent(t, "content", e.mustGet(t, "bob", "f", pw), []byte("alice's"))
				e.assertBlobCount(t, 1)

				// The owner may (Unprotect only if protected).
				err = o.do(e.svc, "alice")
				if o.name == "Unprotect" && !protected {
					testkit.WantErr(t, "alice: "+o.name, err, ErrNotProtected)
				} else {
					testkit.WantErr(t, "alice: "+o.name, err, nil)
				}
			})
		}
	}
}

func TestOwnerChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.mustPut(t, "alice", PutOptions{Name: "f"}, []byte("f"))
	e.mustPut(t, "alice", PutOptions{Name: "g", Hidden: true, Password: "gpw"}, []byte("g"))
	e.mustPut(t, "bob", PutOptions{Name: "b"}, []byte("b"))
	e.assertBlobCount(t, 3)

	// Rename moves the content and keeps the attributes.
	testkit.WantErr(t, "rename g to h", e.svc.Rename(ctx, "alice", "g", "h"), nil)
	_, err := e.svc.Info(ctx, "alice", "g")
	testkit.WantErr(t, "old name", err, ErrNotFound)
	h, err := e.svc.Info(ctx, "alice", "h")
	if err != nil || !h.Hidden || !h.Protected || h.Owner != "alice" {
		t.Fatalf("renamed: %+v %v", h, err)
	}
	wantContent(t, "renamed content", e.mustGet(t, "alice", "h", "gpw"), []byte("g"))
	// Rename onto one's own file replaces it and frees its content.
	testkit.WantErr(t, "rename h onto f", e.svc.Rename(ctx, "alice", "h", "f"), nil)
	wantContent(t, "replaced by rename", e.mustGet(t, "bob", "f", "gpw"), []byte("g"))
	e.assertBlobCount(t, 2)
	// Rename onto another's file is refused; nothing changes.
	testkit.WantErr(t, "rename onto bob's", e.svc.Rename(ctx, "alice", "f", "b"), ErrNameTaken)
	wantContent(t, "bob's", e.mustGet(t, "alice", "b", ""), []byte("b"))
	wantContent(t, "alice's", e.mustGet(t, "alice", "f", "gpw"), []byte("g"))
	// Missing files.
	testkit.WantErr(t, "rename missing", e.svc.Rename(ctx, "alice", "nope", "x"), ErrNotFound)
	testkit.WantErr(t, "remove missing", e.svc.Remove(ctx, "alice", "nope"), ErrNotFound)
	testkit.WantErr(t, "hide missing", e.svc.SetHidden(ctx, "alice", "nope", true), ErrNotFound)
	testkit.WantErr(t, "protect missing", e.svc.Protect(ctx, "alice", "nope", "x", ""), ErrNotFound)
	// Remove frees the content.
	testkit.WantErr(t, "remove", e.svc.Remove(ctx, "alice", "f"), nil)
	_, err = e.svc.Info(ctx, "alice", "f")
	testkit.WantErr(t, "removed", err, ErrNotFound)
	e.assertBlobCount(t, 1)

	// RemoveOwnedBy removes every file of an account and no other.
	e.mustPut(t, "alice", PutOptions{Name: "a1"}, []byte("1"))
	e.mustPut(t, "alice", PutOptions{Name: "a2", Hidden: true, Password: "x"}, []byte("2"))
	n, err := e.svc.RemoveOwnedBy(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("RemoveOwnedBy = %d, %v", n, err)
	}
	e.assertBlobCount(t, 1)
	if _, err := e.svc.Info(ctx, "bob", "b"); err != nil {
		t.Fatalf("bob's file: %v", err)
	}
}

// Rule 4: changing protection needs the current download password.
func TestProtectUnprotect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		initial   string // "" unprotected
		op        func(s *Service) error
		want      error
		wantAfter string // password that must open it afterwards; "" = unprotected
	}{
		{"protect unprotected", "", func(s *Service) error { return s.Protect(ctx, "alice", "f", "new", "") }, nil, "new"},
		{"protect unprotected ignores old", "", func(s *Service) error { return s.Protect(ctx, "alice", "f", "new", "whatever") }, nil, "new"},
		{"protect with empty", "", func(s *Service) error { return s.Protect(ctx, "alice", "f", "", "") }, ErrEmptyPassword, ""},
		{"protect protected without old", "old", func(s *Service) error { return s.Protect(ctx, "alice", "f", "new", "") }, ErrPasswordRequired, "old"},
		{"protect protected with wrong old", "old", func(s *Service) error { return s.Protect(ctx, "alice", "f", "new", "bad") }, ErrWrongPassword, "old"},
		{"protect protected with old", "old", func(s *Service) error { return s.Protect(ctx, "alice", "f", "new", "old") }, nil, "new"},
		{"unprotect unprotected", "", func(s *Service) error { return s.Unprotect(ctx, "alice", "f", "x") }, ErrNotProtected, ""},
		{"unprotect without password", "old", func(s *Service) error { return s.Unprotect(ctx, "alice", "f", "") }, ErrPasswordRequired, "old"},
		{"unprotect with wrong", "old", func(s *Service) error { return s.Unprotect(ctx, "alice", "f", "bad") }, ErrWrongPassword, "old"},
		{"unprotect with right", "old", func(s *Service) error { return s.Unprotect(ctx, "alice", "f", "old") }, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.mustPut(t, "alice", PutOptions{Name: "f", Password: tt.initial}, []byte("content"))
			testkit.WantErr(t, tt.name, tt.op(e.svc), tt.want)
			f, err := e.svc.Info(ctx, "bob", "f")
			if err != nil {
				t.Fatal(err)
			}
			if f.Protected != (tt.wantAfter != "") {
				t.Errorf("Protected = %v after, want %v", f.Protected, tt.wantAfter != "")
			}
			wantContent(t, "open with the current password", e.mustGet(t, "bob", "f", tt.wantAfter), []byte("content"))
			if tt.wantAfter != "" {
				for _, other := range []string{"old", "new"} {
					if other == tt.wantAfter {
						continue
					}
					_, err := e.get("bob", "f", other)
					testkit.WantErr(t, "open with "+other, err, ErrWrongPassword)
				}
			}
		})
	}
}

// Rule 5: put onto another's name is refused and nothing changes, whether
// caught at Create or at Commit.
func TestPutOntoOthersName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	orig := e.mustPut(t, "alice", PutOptions{Name: "f", Password: "pw"}, []byte("alice's"))

	_, err := e.svc.Create(ctx, "bob", PutOptions{Name: "f", Size: -1})
	testkit.WantErr(t, "bob creates f", err, ErrNameTaken)

	// Bob starts first; Alice's file appears before Bob commits.
	u, err := e.svc.Create(ctx, "bob", PutOptions{Name: "g", Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("bob's")); err != nil {
		t.Fatal(err)
	}
	e.mustPut(t, "alice", PutOptions{Name: "g"}, []byte("alice's g"))
	_, err = u.Commit(ctx)
	testkit.WantErr(t, "bob commits g", err, ErrNameTaken)

	after, err := e.svc.Info(ctx, "alice", "f")
	if err != nil || after != orig {
		t.Errorf("f changed: %+v -> %+v (%v)", orig, after, err)
	}
	wantContent(t, "f", e.mustGet(t, "bob", "f", "pw"), []byte("alice's"))
	wantContent(t, "g", e.mustGet(t, "bob", "g", ""), []byte("alice's g"))
	e.assertTempEmpty(t)
	e.assertBlobCount(t, 2)
}

// Rules 5 and 6: the owner's replace is atomic; a reader of the old version
// gets the old version whole.
func TestOwnerReplaceIsAtomic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	oldContent := testkit.RandBytes(t, 300<<10)
	newContent := testkit.RandBytes(t, 100<<10)
	e.mustPut(t, "alice", PutOptions{Name: "f", Password: "old"}, oldContent)

	byRead, err := e.svc.Open(ctx, "bob", "f", "old")
	if err != nil {
		t.Fatal(err)
	}
	defer byRead.Close()
	byReadAt, err := e.svc.Open(ctx, "bob", "f", "old")
	if err != nil {
		t.Fatal(err)
	}
	defer byReadAt.Close()
	// Start reading, then replace mid-stream.
	first := make([]byte, 1000)
	if _, err := byRead.Read(first); err != nil {
		t.Fatal(err)
	}

	// A pending upload is invisible until committed.
	u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: int64(len(newContent)), CurrentPassword: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(newContent); err != nil {
		t.Fatal(err)
	}
	wantContent(t, "before commit", e.mustGet(t, "bob", "f", "old"), oldContent)
	nf, err := u.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !nf.Protected || nf.SHA256 != testkit.SHA256Hex(newContent) {
		t.Errorf("replaced file (keeps its protection): %+v", nf)
	}

	rest, err := readAll(byRead)
	testkit.WantErr(t, "old reader (Read)", err, nil)
	wantContent(t, "old reader (Read)", append(first, rest...), oldContent)
	if !byRead.Verified() {
		t.Error("old reader not verified")
	}
	got, err := readAllAt(byReadAt, 32<<10)
	testkit.WantErr(t, "old reader (ReadAt)", err, nil)
	wantContent(t, "old reader (ReadAt)", got, oldContent)

	wantContent(t, "new reader", e.mustGet(t, "bob", "f", "old"), newContent)
	e.assertBlobCount(t, 1)
	e.assertTempEmpty(t)
}

func readAll(d *Download) ([]byte, error) {
	var out []byte
	buf := make([]byte, 7777)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
	}
}

// readAllAt reads a download with ReadAt in order, as SFTP does; it
// returns nil at io.EOF.
func readAllAt(d *Download, chunk int) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for off := int64(0); ; {
		n, err := d.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
	}
}
