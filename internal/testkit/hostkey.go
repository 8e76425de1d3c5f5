package testkit

import (
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// sharedHostKey is one Ed25519 key for every test server of a test binary:
// generating the RSA-3072 key a real first start makes costs up to seconds
// under the race detector, for each of dozens of servers.
var sharedHostKey = sync.OnceValues(func() (gossh.Signer, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return gossh.NewSignerFromKey(k)
})

// HostKey returns a host key for an in-process test server.
func HostKey(t testing.TB) gossh.Signer {
	t.Helper()
	s, err := sharedHostKey()
	if err != nil {
		t.Fatalf("host key: %v", err)
	}
	return s
}
