// Package authtest is the conformance suite of auth.Store: every
// implementation runs TestStore from its tests.
package authtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/auth"
)

// TestStore checks the store that open returns, a new empty one for each
// subtest, against the contract of auth.Store.
func TestStore(t *testing.T, open func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s auth.Store)
	}{
		{"CreateAndAccount", testCreate},
		{"ConcurrentCreate", testConcurrentCreate},
		{"SetPasswordHash", testSetPasswordHash},
		{"Names", testNames},
		{"Delete", testDelete},
		{"Disable", testDisable},
		{"Active", testActive},
		{"Keys", testKeys},
		{"Addresses", testAddresses},
		{"AddressesBounded", testAddressesBounded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// at is a fixed instant with a fraction of a second, which the store
// keeps or drops as its methods say.
var at = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func create(t *testing.T, s auth.Store, name, hash string) {
	t.Helper()
	created, err := s.Create(context.Background(), name, hash, at)
	if err != nil || !created {
		t.Fatalf("Create(%q) = %v, %v; want created", name, created, err)
	}
}

func wantNoAccount(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrNoAccount) {
		t.Errorf("%s: %v, want ErrNoAccount", what, err)
	}
}

func testCreate(t *testing.T, s auth.Store) {
	ctx := context.Background()
	_, err := s.Account(ctx, "alice")
	wantNoAccount(t, "Account of nobody", err)
	create(t, s, "alice", "hash-1")
	created, err := s.Create(ctx, "alice", "hash-2", at.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("second Create = %v, %v; want not created", created, err)
	}
	acc, err := s.Account(ctx, "alice")
	must(t, "Account", err)
	want := auth.Account{Name: "alice", PasswordHash: "hash-1", Created: at.Truncate(time.Second)}
	if acc.Name != want.Name || acc.PasswordHash != want.PasswordHash || !acc.Created.Equal(want.Created) || acc.Disabled {
		t.Errorf("Account = %+v, want %+v (the first create's)", acc, want)
	}
	// Names differ by byte, not by case folding.
	create(t, s, "Alice", "hash-3")
	if acc, err := s.Account(ctx, "Alice"); err != nil || acc.PasswordHash != "hash-3" {
		t.Errorf("Account(Alice) = %+v, %v", acc, err)
	}
}

// Of concurrent creates of one name exactly one reports created, and the
// account holds its hash.
func testConcurrentCreate(t *testing.T, s auth.Store) {
	ctx := context.Background()
	const n = 8
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = s.Create(ctx, "carol", fmt.Sprint("hash-", i), at)
		}()
	}
	wg.Wait()
	winner := -1
	for i := range n {
		must(t, fmt.Sprint("Create ", i), errs[i])
		if created[i] {
			if winner >= 0 {
				t.Fatalf("Create %d and %d both created carol", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no Create created carol")
	}
	acc, err := s.Account(ctx, "carol")
	must(t, "Account", err)
	if want := fmt.Sprint("hash-", winner); acc.PasswordHash != want {
		t.Errorf("hash %q, want the winner's %q", acc.PasswordHash, want)
	}
}

func testSetPasswordHash(t *testing.T, s auth.Store) {
	ctx := context.Background()
	wantNoAccount(t, "SetPasswordHash of nobody", s.SetPasswordHash(ctx, "nobody", "h"))
	if _, err := s.Account(ctx, "nobody"); !errors.Is(err, auth.ErrNoAccount) {
		t.Errorf("SetPasswordHash created an account: %v", err)
	}
	create(t, s, "alice", "old")
	create(t, s, "bob", "bobs")
	must(t, "SetPasswordHash", s.SetPasswordHash(ctx, "alice", "new"))
	for name, want := range map[string]string{"alice": "new", "bob": "bobs"} {
		if acc, err := s.Account(ctx, name); err != nil || acc.PasswordHash != want {
			t.Errorf("Account(%s) = %+v, %v; want hash %q", name, acc, err, want)
		}
	}
}

func testNames(t *testing.T, s auth.Store) {
	ctx := context.Background()
	names, err := s.Names(ctx)
	if err != nil || len(names) != 0 {
		t.Fatalf("Names of an empty store = %q, %v", names, err)
	}
	in := []string{"bob", "alice", "Zed", "_x", "a-1", "a.1", "A", "0"}
	for _, n := range in {
		create(t, s, n, "h")
	}
	want := append([]string(nil), in...)
	sort.Strings(want) // byte order
	names, err = s.Names(ctx)
	if err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("Names = %q, %v; want %q", names, err, want)
	}
}

// Deleting an account takes its keys, addresses and deletion mark: the
// same name created again is a new account with nothing.
func testDelete(t *testing.T, s auth.Store) {
	ctx := context.Background()
	wantNoAccount(t, "Delete of nobody", s.Delete(ctx, "nobody"))
	create(t, s, "alice", "h")
	create(t, s, "bob", "h")
	for _, n := range []string{"alice", "bob"} {
		must(t, "AddKey", s.AddKey(ctx, n, auth.Key{Blob: []byte("key-" + n), Line: "line " + n}))
		must(t, "RememberAddress", s.RememberAddress(ctx, n, "192.0.2.1", at, 16))
	}
	_, err := s.Disable(ctx, "alice", at)
	must(t, "Disable", err)
	must(t, "Delete", s.Delete(ctx, "alice"))
	_, err = s.Account(ctx, "alice")
	wantNoAccount(t, "Account after Delete", err)
	wantNoAccount(t, "Delete again", s.Delete(ctx, "alice"))
	if names, err := s.Names(ctx); err != nil || !reflect.DeepEqual(names, []string{"bob"}) {
		t.Errorf("Names = %q, %v", names, err)
	}

	create(t, s, "alice", "h2")
	acc, err := s.Account(ctx, "alice")
	must(t, "Account", err)
	if acc.Disabled {
		t.Error("the deletion mark survived the account")
	}
	if keys, err := s.Keys(ctx, "alice"); err != nil || len(keys) != 0 {
		t.Errorf("keys survived the account: %v, %v", keys, err)
	}
	if has, err := s.HasKey(ctx, "alice", []byte("key-alice")); err != nil || has {
		t.Errorf("HasKey after Delete = %v, %v", has, err)
	}
	if _, known, err := s.LastLogin(ctx, "alice", "192.0.2.1"); err != nil || known {
		t.Errorf("an address survived the account: %v, %v", known, err)
	}
	// bob keeps his.
	if has, err := s.HasKey(ctx, "bob", []byte("key-bob")); err != nil || !has {
		t.Errorf("bob's key: %v, %v", has, err)
	}
	if _, known, err := s.LastLogin(ctx, "bob", "192.0.2.1"); err != nil || !known {
		t.Errorf("bob's address: %v, %v", known, err)
	}
}

func testDisable(t *testing.T, s auth.Store) {
	ctx := context.Background()
	_, err := s.Disable(ctx, "nobody", at)
	wantNoAccount(t, "Disable of nobody", err)
	if _, err := s.Account(ctx, "nobody"); !errors.Is(err, auth.ErrNoAccount) {
		t.Errorf("Disable created an account: %v", err)
	}
	create(t, s, "bob", "h")
	create(t, s, "carol", "h")
	must(t, "AddKey", s.AddKey(ctx, "bob", auth.Key{Blob: []byte("k"), Line: "l"}))
	since, err := s.Disable(ctx, "bob", at)
	must(t, "Disable", err)
	if d := since.Sub(at); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("Disable = %v, want %v", since, at)
	}
	again, err := s.Disable(ctx, "bob", at.Add(time.Hour))
	must(t, "Disable again", err)
	if !again.Equal(since) {
		t.Errorf("Disable again = %v, want the first %v", again, since)
	}
	for name, want := range map[string]bool{"bob": true, "carol": false} {
		acc, err := s.Account(ctx, name)
		if err != nil || acc.Disabled != want || acc.PasswordHash != "h" {
			t.Errorf("Account(%s) = %+v, %v; want disabled %v, hash kept", name, acc, err, want)
		}
	}
	// The store remembers; refusing a disabled account is the rules' job.
	if has, err := s.HasKey(ctx, "bob", []byte("k")); err != nil || !has {
		t.Errorf("HasKey of a disabled account = %v, %v", has, err)
	}
	if created, err := s.Create(ctx, "bob", "h2", at); err != nil || created {
		t.Errorf("Create over a disabled account = %v, %v", created, err)
	}
}

func testActive(t *testing.T, s auth.Store) {
	ctx := context.Background()
	if active, err := s.Active(ctx, nil); err != nil || len(active) != 0 {
		t.Errorf("Active(nil) = %v, %v", active, err)
	}
	create(t, s, "alice", "h")
	created, err := s.Create(ctx, "bob", "h", at.Add(time.Minute))
	if err != nil || !created {
		t.Fatalf("Create bob: %v, %v", created, err)
	}
	create(t, s, "carol", "h")
	_, err = s.Disable(ctx, "carol", at)
	must(t, "Disable", err)
	names := []string{"alice", "bob", "carol", "nobody", "alice"}
	for i := range 5000 {
		names = append(names, fmt.Sprint("x", i))
	}
	active, err := s.Active(ctx, names)
	must(t, "Active", err)
	want := map[string]time.Time{"alice": at.Truncate(time.Second), "bob": at.Add(time.Minute).Truncate(time.Second)}
	if len(active) != len(want) {
		t.Fatalf("Active = %v, want %v", active, want)
	}
	for n, c := range want {
		if !active[n].Equal(c) {
			t.Errorf("Active[%s] = %v, want %v", n, active[n], c)
		}
	}
}

func testKeys(t *testing.T, s auth.Store) {
	ctx := context.Background()
	if keys, err := s.Keys(ctx, "nobody"); err != nil || len(keys) != 0 {
		t.Errorf("Keys of nobody = %v, %v", keys, err)
	}
	if err := s.AddKey(ctx, "nobody", auth.Key{Blob: []byte("k"), Line: "l"}); err == nil {
		t.Error("AddKey for an account that does not exist succeeded")
	}
	create(t, s, "alice", "h")
	create(t, s, "bob", "h")
	add := []auth.Key{
		{Blob: []byte{3, 1}, Line: "three"},
		{Blob: []byte{1, 200}, Line: "one"},
		{Blob: []byte{2}, Line: "two"},
		{Blob: []byte{1, 200}, Line: "one again"}, // already there: kept as it was
	}
	for _, k := range add {
		must(t, "AddKey", s.AddKey(ctx, "alice", k))
	}
	must(t, "AddKey bob", s.AddKey(ctx, "bob", auth.Key{Blob: []byte{2}, Line: "bob's two"}))
	keys, err := s.Keys(ctx, "alice")
	must(t, "Keys", err)
	want := []auth.Key{add[1], add[2], add[0]}
	if !sameKeys(keys, want) {
		t.Errorf("Keys = %v, want %v (by blob, the first line kept)", keys, want)
	}
	for _, c := range []struct {
		name string
		blob []byte
		want bool
	}{
		{"alice", []byte{2}, true},
		{"alice", []byte{1, 200}, true},
		{"alice", []byte{1}, false},
		{"bob", []byte{2}, true},
		{"bob", []byte{3, 1}, false},
		{"nobody", []byte{2}, false},
	} {
		if has, err := s.HasKey(ctx, c.name, c.blob); err != nil || has != c.want {
			t.Errorf("HasKey(%s, %v) = %v, %v; want %v", c.name, c.blob, has, err, c.want)
		}
	}
	deleted, err := s.DeleteKey(ctx, "alice", []byte{2})
	if err != nil || !deleted {
		t.Fatalf("DeleteKey = %v, %v", deleted, err)
	}
	if deleted, err := s.DeleteKey(ctx, "alice", []byte{2}); err != nil || deleted {
		t.Errorf("DeleteKey again = %v, %v", deleted, err)
	}
	if deleted, err := s.DeleteKey(ctx, "nobody", []byte{2}); err != nil || deleted {
		t.Errorf("DeleteKey of nobody = %v, %v", deleted, err)
	}
	if has, err := s.HasKey(ctx, "alice", []byte{2}); err != nil || has {
		t.Errorf("HasKey after DeleteKey = %v, %v", has, err)
	}
	if has, err := s.HasKey(ctx, "bob", []byte{2}); err != nil || !has {
		t.Errorf("bob's copy of the key went too: %v, %v", has, err)
	}
	keys, err = s.Keys(ctx, "alice")
	must(t, "Keys", err)
	if !sameKeys(keys, []auth.Key{add[1], add[0]}) {
		t.Errorf("Keys after DeleteKey = %v", keys)
	}
}

func sameKeys(a, b []auth.Key) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Blob, b[i].Blob) || a[i].Line != b[i].Line {
			return false
		}
	}
	return true
}

func testAddresses(t *testing.T, s auth.Store) {
	ctx := context.Background()
	must(t, "RememberAddress for nobody", s.RememberAddress(ctx, "nobody", "192.0.2.1", at, 16))
	if _, known, err := s.LastLogin(ctx, "nobody", "192.0.2.1"); err != nil || known {
		t.Errorf("an address kept for no account: %v, %v", known, err)
	}
	create(t, s, "alice", "h")
	create(t, s, "bob", "h")
	if _, known, err := s.LastLogin(ctx, "alice", "192.0.2.1"); err != nil || known {
		t.Errorf("LastLogin before any = %v, %v", known, err)
	}
	must(t, "RememberAddress", s.RememberAddress(ctx, "alice", "192.0.2.1", at, 16))
	must(t, "RememberAddress", s.RememberAddress(ctx, "alice", "2001:db8::1", at, 16))
	later := at.Add(2 * time.Hour)
	must(t, "RememberAddress again", s.RememberAddress(ctx, "alice", "192.0.2.1", later, 16))
	for _, c := range []struct {
		name, host string
		known      bool
		last       time.Time
	}{
		{"alice", "192.0.2.1", true, later.Truncate(time.Second)},
		{"alice", "2001:db8::1", true, at.Truncate(time.Second)},
		{"alice", "192.0.2.2", false, time.Time{}},
		{"bob", "192.0.2.1", false, time.Time{}},
	} {
		last, known, err := s.LastLogin(ctx, c.name, c.host)
		if err != nil || known != c.known || known && !last.Equal(c.last) {
			t.Errorf("LastLogin(%s, %s) = %v, %v, %v; want %v, %v", c.name, c.host, last, known, err, c.last, c.known)
		}
	}
}

// An account keeps its keep most recent addresses; the oldest go first,
// and of equal times the greater hosts.
func testAddressesBounded(t *testing.T, s auth.Store) {
	ctx := context.Background()
	const keep = 16
	create(t, s, "alice", "h")
	create(t, s, "bob", "h")
	must(t, "bob's address", s.RememberAddress(ctx, "bob", "198.51.100.1", at, keep))
	for i := range keep + 4 {
		host := fmt.Sprintf("192.0.2.%d", i)
		must(t, "RememberAddress", s.RememberAddress(ctx, "alice", host, at.Add(time.Duration(i)*time.Second), keep))
	}
	n := 0
	for i := range keep + 4 {
		_, known, err := s.LastLogin(ctx, "alice", fmt.Sprintf("192.0.2.%d", i))
		must(t, "LastLogin", err)
		if want := i >= 4; known != want {
			t.Errorf("address %d known %v, want %v", i, known, want)
		}
		if known {
			n++
		}
	}
	if n != keep {
		t.Errorf("%d addresses kept, want %d", n, keep)
	}
	if _, known, err := s.LastLogin(ctx, "bob", "198.51.100.1"); err != nil || !known {
		t.Errorf("alice's logins pushed out bob's address: %v, %v", known, err)
	}
	// Ties at one instant: the smaller hosts stay.
	create(t, s, "carol", "h")
	for i := range keep + 2 {
		must(t, "RememberAddress", s.RememberAddress(ctx, "carol", fmt.Sprintf("10.0.0.%02d", i), at, keep))
	}
	for i := range keep + 2 {
		_, known, err := s.LastLogin(ctx, "carol", fmt.Sprintf("10.0.0.%02d", i))
		must(t, "LastLogin", err)
		if want := i < keep; known != want {
			t.Errorf("tied address %d known %v, want %v", i, known, want)
		}
	}
}
