package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/testkit"
)

// ListKeys shows each key as `ssh-keygen -l` does; DeleteKey takes one
// by its fingerprint and leaves the rest.
func TestListDeleteKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAccounts(t, false, lenient)
	ed, edLine := newKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line    string
		pub     gossh.PublicKey
		bits    int
		typ     string
		comment string
	}{
		{edLine + " alice@laptop", ed, 256, "ED25519", "alice@laptop"},
		{authorized(t, &rsaKey.PublicKey), nil, 1024, "RSA", ""},
		{`no-pty ` + authorized(t, &ecKey.PublicKey) + " two words", nil, 384, "ECDSA", "two words"},
	}
	want := map[string]auth.KeyInfo{}
	for i, tt := range tests {
		testkit.WantErr(t, "AddKey", a.AddKey(ctx, "robot", tt.line), nil)
		pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(tt.line))
		if err != nil {
			t.Fatal(err)
		}
		tests[i].pub = pub
		fp := gossh.FingerprintSHA256(pub)
		want[fp] = auth.KeyInfo{Bits: tt.bits, Fingerprint: fp, Comment: tt.comment, Type: tt.typ}
	}
	keys, err := a.ListKeys(ctx, "robot")
	testkit.WantErr(t, "ListKeys", err, nil)
	if len(keys) != len(tests) {
		t.Fatalf("ListKeys = %v, want %d keys", keys, len(tests))
	}
	for _, k := range keys {
		if want[k.Fingerprint] != k {
			t.Errorf("ListKeys has %+v, want %+v", k, want[k.Fingerprint])
		}
	}
	if got := want[gossh.FingerprintSHA256(ed)].String(); got != "256 "+gossh.FingerprintSHA256(ed)+" alice@laptop (ED25519)" {
		t.Errorf("String = %q", got)
	}
	if got := (auth.KeyInfo{Bits: 1024, Fingerprint: "SHA256:x", Type: "RSA"}).String(); got != "1024 SHA256:x no comment (RSA)" {
		t.Errorf("String without a comment = %q", got)
	}

	_, err = a.ListKeys(ctx, "nobody")
	testkit.WantErr(t, "ListKeys of nobody", err, auth.ErrNoAccount)
	testkit.WantErr(t, "DeleteKey of nobody", a.DeleteKey(ctx, "nobody", gossh.FingerprintSHA256(ed)), auth.ErrNoAccount)
	testkit.WantErr(t, "DeleteKey of an unknown fingerprint", a.DeleteKey(ctx, "robot", "SHA256:nope"), auth.ErrNoKey)
	testkit.WantErr(t, "DeleteKey", a.DeleteKey(ctx, "robot", gossh.FingerprintSHA256(ed)), nil)
	testkit.WantErr(t, "DeleteKey again", a.DeleteKey(ctx, "robot", gossh.FingerprintSHA256(ed)), auth.ErrNoKey)
	testkit.WantErr(t, "the deleted key", a.LoginKey(ctx, "robot", ed, addr), auth.ErrDenied)
	for _, tt := range tests[1:] {
		testkit.WantErr(t, "another key", a.LoginKey(ctx, "robot", tt.pub, addr), nil)
	}
	if keys, err := a.ListKeys(ctx, "robot"); err != nil || len(keys) != 2 {
		t.Errorf("ListKeys after DeleteKey = %v, %v", keys, err)
	}
}

func authorized(t *testing.T, key any) string {
	t.Helper()
	pub, err := gossh.NewPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub)))
}
