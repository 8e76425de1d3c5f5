package hostkeys

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// Dir is a Store of key files in a folder, named as OpenSSH names them
// (ssh_host_ed25519_key, with its public half in ssh_host_ed25519_key.pub).
// It belongs to one server: Add is not atomic across processes.
type Dir string

func (d Dir) path(typ string) string {
	return filepath.Join(string(d), "ssh_host_"+strings.TrimPrefix(typ, "ssh-")+"_key")
}

func (d Dir) String() string { return "folder " + string(d) }

// Load reads the key file of typ.
func (d Dir) Load(ctx context.Context, typ string) ([]byte, error) {
	data, err := os.ReadFile(d.path(typ))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Add writes the key file of typ with mode 0600, and its public half.
func (d Dir) Add(ctx context.Context, typ string, key []byte) ([]byte, error) {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, err
	}
	path := d.path(typ)
	s, err := gossh.ParsePrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("new key for %s: %w", path, err)
	}
	// Write under a temporary name and rename, so a crash never leaves a
	// half-written key that would fail every later start.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(s.PublicKey()), 0o644); err != nil {
		return nil, err
	}
	return key, nil
}
