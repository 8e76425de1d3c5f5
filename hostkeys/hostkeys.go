// Package hostkeys loads the server's host keys from a Store, creating an
// Ed25519 and an RSA-3072 key on first start: from files in the data
// directory (Dir), or from the catalog that the servers of a cluster
// share (pghostkeys), so that every instance presents the same keys.
package hostkeys

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"

	gossh "golang.org/x/crypto/ssh"
)

// Store keeps host keys by SSH key type, each as an unencrypted private
// key in OpenSSH's PEM format.
type Store interface {
	// Load returns the key of type typ, or an error wrapping
	// fs.ErrNotExist if there is none.
	Load(ctx context.Context, typ string) ([]byte, error)
	// Add keeps key as the key of type typ unless one is kept already, and
	// returns the one kept: of servers creating a key at once, all end up
	// with the first one's.
	Add(ctx context.Context, typ string, key []byte) ([]byte, error)
	// String says where the keys are kept, for errors.
	String() string
}

// Kind is a host key the server presents: its SSH type and how a new one
// is made.
type Kind struct {
	Type     string // "ssh-ed25519", "ssh-rsa"
	Generate func() (crypto.Signer, error)
}

// Kinds returns the host keys a server presents, in the order offered: an
// Ed25519 key and an RSA-3072 key for older clients.
func Kinds() []Kind {
	return []Kind{
		{"ssh-ed25519", func() (crypto.Signer, error) {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			return k, err
		}},
		{"ssh-rsa", func() (crypto.Signer, error) {
			return rsa.GenerateKey(rand.Reader, 3072)
		}},
	}
}

// LoadOrCreate returns the host keys in dir, creating missing ones with
// mode 0600 in OpenSSH's private key format.
func LoadOrCreate(dir string) ([]gossh.Signer, error) {
	return LoadOrCreateIn(context.Background(), Dir(dir), Kinds())
}

// LoadOrCreateIn returns the keys of kinds kept in store, generating and
// adding those it lacks. A key is generated only where none is kept, so
// only the first start pays for an RSA key.
func LoadOrCreateIn(ctx context.Context, store Store, kinds []Kind) ([]gossh.Signer, error) {
	var signers []gossh.Signer
	for _, k := range kinds {
		s, err := loadOrCreate(ctx, store, k)
		if err != nil {
			return nil, fmt.Errorf("host key %s in %s: %w", k.Type, store, err)
		}
		signers = append(signers, s)
	}
	return signers, nil
}

func loadOrCreate(ctx context.Context, store Store, k Kind) (gossh.Signer, error) {
	data, err := store.Load(ctx, k.Type)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = create(ctx, store, k)
	}
	if err != nil {
		return nil, err
	}
	s, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	if got := s.PublicKey().Type(); got != k.Type {
		return nil, fmt.Errorf("the key kept is of type %s", got)
	}
	return s, nil
}

func create(ctx context.Context, store Store, k Kind) ([]byte, error) {
	key, err := k.Generate()
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, err
	}
	return store.Add(ctx, k.Type, pem.EncodeToMemory(block))
}

// Fingerprint returns the key's SHA256 fingerprint as `ssh-keygen -lf`
// prints it.
func Fingerprint(s gossh.Signer) string {
	return gossh.FingerprintSHA256(s.PublicKey())
}
