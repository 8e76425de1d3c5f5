// Package testkit holds the helpers that tests in more than one package
// share: error and content checks, cheap password hashing, random content
// and the leak and memory checks. It is imported by tests only; it imports
// nothing of sshelf's but passhash, so the packages under test can use it.
package testkit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/sshelf/sshelf/internal/passhash"
)

// CheapParams keep Argon2id fast in tests; never use them for real
// passwords.
var CheapParams = passhash.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// CheapHasher is a hasher with CheapParams and room for slots hashes at
// once.
func CheapHasher(slots int) *passhash.Hasher { return passhash.New(CheapParams, slots) }

// WantErr fails the test unless got is want (by errors.Is); a nil want
// means success.
func WantErr(t testing.TB, what string, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("%s: %v, want success", what, got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

// SHA256Hex is the lower-case hex SHA-256 of b, as the server reports it.
func SHA256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// RandBytes returns n random bytes.
func RandBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
