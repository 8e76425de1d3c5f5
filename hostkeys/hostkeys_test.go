package hostkeys

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hostkeys")
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"ssh-ed25519", "ssh-rsa"}
	if len(first) != len(wantTypes) {
		t.Fatalf("got %d keys, want %d", len(first), len(wantTypes))
	}
	for i, k := range first {
		if got := k.PublicKey().Type(); got != wantTypes[i] {
			t.Errorf("key %d is %s, want %s", i, got, wantTypes[i])
		}
	}
	for _, name := range []string{"ssh_host_ed25519_key", "ssh_host_rsa_key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	// The RSA key has 3072 bits: its wire form carries a 384-byte modulus.
	if n := len(first[1].PublicKey().Marshal()); n < 384 || n > 420 {
		t.Errorf("RSA public key is %d bytes on the wire, not a 3072-bit key", n)
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if Fingerprint(first[i]) != Fingerprint(again[i]) {
			t.Errorf("key %d changed on reload: %s -> %s", i, Fingerprint(first[i]), Fingerprint(again[i]))
		}
	}
}

func TestLoadRefusesGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh_host_ed25519_key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("a corrupt host key file was accepted (or silently replaced)")
	}
}
