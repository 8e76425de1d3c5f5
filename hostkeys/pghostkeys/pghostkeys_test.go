package pghostkeys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"sync/atomic"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/hostkeys/pghostkeys"
	"github.com/sshelf/sshelf/internal/pgtest"
)

func open(t *testing.T, url string) *pghostkeys.Store {
	t.Helper()
	s, err := pghostkeys.Open(context.Background(), pgtest.Pool(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cheapKinds are the server's key types with a small RSA key, which is
// quick to make; generated counts the keys made.
func cheapKinds(generated *atomic.Int64) []hostkeys.Kind {
	return []hostkeys.Kind{
		{Type: "ssh-ed25519", Generate: func() (crypto.Signer, error) {
			generated.Add(1)
			_, k, err := ed25519.GenerateKey(rand.Reader)
			return k, err
		}},
		{Type: "ssh-rsa", Generate: func() (crypto.Signer, error) {
			generated.Add(1)
			return rsa.GenerateKey(rand.Reader, 1024)
		}},
	}
}

func publicKeys(keys []gossh.Signer) [][]byte {
	var out [][]byte
	for _, k := range keys {
		out = append(out, k.PublicKey().Marshal())
	}
	return out
}

func sameKeys(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Servers starting at once on one catalog all end up with the same host
// keys, and later starts load them without making new ones.
func TestLoadOrCreateShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	stores := []*pghostkeys.Store{open(t, url), open(t, url)}
	var generated atomic.Int64
	got := make([][][]byte, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			keys, err := hostkeys.LoadOrCreateIn(ctx, s, cheapKinds(&generated))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = publicKeys(keys)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(got[0]) != 2 || !sameKeys(got[0], got[1]) {
		t.Fatalf("two servers starting at once present different host keys")
	}
	made := generated.Load()
	keys, err := hostkeys.LoadOrCreateIn(ctx, open(t, url), cheapKinds(&generated))
	if err != nil {
		t.Fatal(err)
	}
	if !sameKeys(publicKeys(keys), got[0]) {
		t.Error("a later start loaded other keys")
	}
	if generated.Load() != made {
		t.Errorf("a later start made %d new keys, want none", generated.Load()-made)
	}
	for i, want := range []string{"ssh-ed25519", "ssh-rsa"} {
		if typ := keys[i].PublicKey().Type(); typ != want {
			t.Errorf("key %d is %s, want %s", i, typ, want)
		}
	}
}

// A key kept under the wrong type, or one that does not parse, fails the
// start instead of being replaced.
func TestLoadRefusesBadKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, pgtest.Database(t))
	var generated atomic.Int64
	kinds := cheapKinds(&generated)
	keys, err := hostkeys.LoadOrCreateIn(ctx, s, kinds[:1])
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := s.Load(ctx, "ssh-ed25519")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "ssh-rsa", pemKey); err != nil { // an Ed25519 key as the RSA one
		t.Fatal(err)
	}
	if _, err := hostkeys.LoadOrCreateIn(ctx, s, kinds); err == nil {
		t.Error("an Ed25519 key kept as the RSA key was accepted")
	}
	if _, err := s.Add(ctx, "ssh-dss", []byte("not a key")); err != nil {
		t.Fatal(err)
	}
	if _, err := hostkeys.LoadOrCreateIn(ctx, s, []hostkeys.Kind{{Type: "ssh-dss"}}); err == nil {
		t.Error("a garbage key was accepted")
	}
	// The good key stays.
	again, err := hostkeys.LoadOrCreateIn(ctx, s, kinds[:1])
	if err != nil || !sameKeys(publicKeys(again), publicKeys(keys)) {
		t.Errorf("the Ed25519 key changed: %v", err)
	}
}
