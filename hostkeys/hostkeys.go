// Package hostkeys loads the server's host keys from the data directory,
// creating an Ed25519 and an RSA-3072 key on first start.
package hostkeys

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// Key files under the host key directory, in the order they are offered.
var kinds = []struct {
	file string
	gen  func() (crypto.Signer, error)
}{
	{"ssh_host_ed25519_key", func() (crypto.Signer, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}},
	{"ssh_host_rsa_key", func() (crypto.Signer, error) {
		return rsa.GenerateKey(rand.Reader, 3072)
	}},
}

// LoadOrCreate returns the host keys in dir, creating missing ones with
// mode 0600 in OpenSSH's private key format.
func LoadOrCreate(dir string) ([]gossh.Signer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("host keys: %w", err)
	}
	var signers []gossh.Signer
	for _, k := range kinds {
		path := filepath.Join(dir, k.file)
		s, err := load(path)
		if errors.Is(err, fs.ErrNotExist) {
			s, err = create(path, k.gen)
		}
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
		signers = append(signers, s)
	}
	return signers, nil
}

func load(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return gossh.ParsePrivateKey(data)
}

func create(path string, gen func() (crypto.Signer, error)) (gossh.Signer, error) {
	key, err := gen()
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, err
	}
	// Write under a temporary name and rename, so a crash never leaves a
	// half-written key that would fail every later start.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	pub, err := gossh.NewPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	pubLine := gossh.MarshalAuthorizedKey(pub)
	if err := os.WriteFile(path+".pub", pubLine, 0o644); err != nil {
		return nil, err
	}
	return gossh.NewSignerFromSigner(key)
}

// Fingerprint returns the key's SHA256 fingerprint as `ssh-keygen -lf`
// prints it.
func Fingerprint(s gossh.Signer) string {
	return gossh.FingerprintSHA256(s.PublicKey())
}
