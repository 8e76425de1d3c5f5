package auth

import (
	"context"
	"crypto/dsa" //nolint:staticcheck // only to read the size of a registered DSA key
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// KeyInfo describes a registered key as `ssh-keygen -l` does.
type KeyInfo struct {
	Bits        int
	Fingerprint string // SHA256:... (unpadded base64)
	Comment     string // "" for none
	Type        string // RSA, ECDSA, ED25519, ED25519-SK, ...; -CERT for a certificate
}

// String is the line `ssh-keygen -lf` prints for the key.
func (k KeyInfo) String() string {
	c := k.Comment
	if c == "" {
		c = "no comment"
	}
	return fmt.Sprintf("%d %s %s (%s)", k.Bits, k.Fingerprint, c, k.Type)
}

// ListKeys returns the keys registered for name.
func (a *Accounts) ListKeys(ctx context.Context, name string) ([]KeyInfo, error) {
	keys, err := a.accountKeys(ctx, "key list", name)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		info, err := keyInfo(k)
		if err != nil {
			return nil, fmt.Errorf("key list %q: %w", name, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// DeleteKey removes name's key whose SHA256 fingerprint is fingerprint (as
// ListKeys and `ssh-keygen -l` show it).
func (a *Accounts) DeleteKey(ctx context.Context, name, fingerprint string) error {
	keys, err := a.accountKeys(ctx, "key del", name)
	if err != nil {
		return err
	}
	for _, k := range keys {
		pub, err := gossh.ParsePublicKey(k.Blob)
		if err != nil || gossh.FingerprintSHA256(pub) != fingerprint {
			continue
		}
		deleted, err := a.store.DeleteKey(ctx, name, k.Blob)
		if err != nil {
			return fmt.Errorf("key del %q: %w", name, err)
		}
		if deleted {
			return nil
		}
	}
	return fmt.Errorf("key del %q %s: %w", name, fingerprint, ErrNoKey)
}

// accountKeys returns name's keys, or ErrNoAccount.
func (a *Accounts) accountKeys(ctx context.Context, op, name string) ([]Key, error) {
	if _, err := a.store.Account(ctx, name); errors.Is(err, ErrNoAccount) {
		return nil, fmt.Errorf("%s %q: %w", op, name, ErrNoAccount)
	} else if err != nil {
		return nil, err
	}
	keys, err := a.store.Keys(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, name, err)
	}
	return keys, nil
}

func keyInfo(k Key) (KeyInfo, error) {
	pub, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(k.Line))
	if err != nil {
		return KeyInfo{}, fmt.Errorf("stored key line: %w", err)
	}
	info := KeyInfo{Comment: comment, Type: keyType(pub.Type())}
	if cert, ok := pub.(*gossh.Certificate); ok {
		// ssh-keygen fingerprints the certified key.
		pub = cert.Key
	}
	info.Fingerprint = gossh.FingerprintSHA256(pub)
	info.Bits = keyBits(pub)
	return info, nil
}

// keyTypes are ssh-keygen's short names of the SSH key algorithms, by
// the prefix of the algorithm's name.
var keyTypes = []struct{ prefix, name string }{
	{"ssh-rsa", "RSA"},
	{"ssh-dss", "DSA"},
	{"ecdsa-", "ECDSA"},
	{"ssh-ed25519", "ED25519"},
	{"sk-ecdsa-", "ECDSA-SK"},
	{"sk-ssh-ed25519", "ED25519-SK"},
}

// keyType is ssh-keygen's short name of the algorithm algo.
func keyType(algo string) string {
	t := strings.ToUpper(algo)
	for _, k := range keyTypes {
		if strings.HasPrefix(algo, k.prefix) {
			t = k.name
			break
		}
	}
	if strings.Contains(algo, "-cert-") {
		t += "-CERT"
	}
	return t
}

// keyBits is the key's size as ssh-keygen counts it.
func keyBits(pub gossh.PublicKey) int {
	if c, ok := pub.(gossh.CryptoPublicKey); ok {
		switch k := c.CryptoPublicKey().(type) {
		case *rsa.PublicKey:
			return k.N.BitLen()
		case *ecdsa.PublicKey:
			return k.Curve.Params().BitSize
		case *dsa.PublicKey:
			return k.P.BitLen()
		}
	}
	// Ed25519 and the security-key types (P-256 or Ed25519).
	return 256
}
