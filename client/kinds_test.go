package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/client"
)

// TestEveryKindThroughTheServer provokes each kind of refusal for real and
// checks that the server's end line carries its token and the client's
// sentinel matches it (and no other kind's sentinel).
func TestEveryKindThroughTheServer(t *testing.T) {
	ctx := context.Background()
	srv := apptest.Start(t, func(o *app.Options) {
		o.Quota = 64
		o.FilePassword.MaxFailures = 2
	})
	full := apptest.Start(t, func(o *app.Options) { o.MinFreeSpace = 1 << 62 })
	alice, bob := connect(t, srv, "alice"), connect(t, srv, "bob")
	put(t, alice, "mine.txt", "alice's", client.PutOptions{})
	put(t, alice, "prot.txt", "protected", client.PutOptions{Password: "pw1"})
	put(t, alice, "thr.txt", "protected", client.PutOptions{Password: "pw2"})
	putErr := func(c *client.Client, name, content string, opts client.PutOptions) error {
		_, err := c.Put(ctx, name, strings.NewReader(content), int64(len(content)), opts)
		return err
	}
	tests := []struct {
		kind     string
		sentinel error
		provoke  func() error
	}{
		{"not-found", client.ErrNotFound, func() error { _, err := get(bob, "missing", ""); return err }},
		{"permission", client.ErrPermission, func() error { return bob.Remove(ctx, "mine.txt") }},
		{"name-taken", client.ErrNameTaken, func() error { return putErr(bob, "mine.txt", "bob's", client.PutOptions{}) }},
		{"password-required", client.ErrPasswordRequired, func() error { _, err := get(bob, "prot.txt", ""); return err }},
		{"wrong-password", client.ErrWrongPassword, func() error { _, err := get(bob, "prot.txt", "nope"); return err }},
		{"throttled", client.ErrThrottled, func() error {
			for range 2 {
				get(bob, "thr.txt", "nope")
			}
			_, err := get(bob, "thr.txt", "pw2")
			return err
		}},
		{"quota", client.ErrQuota, func() error { return putErr(bob, "big", strings.Repeat("x", 100), client.PutOptions{}) }},
		{"no-space", client.ErrNoSpace, func() error {
			return putErr(connect(t, full, "carol"), "f", "content", client.PutOptions{})
		}},
		{"bad-name", client.ErrBadName, func() error { return putErr(bob, "a/b", "x", client.PutOptions{}) }},
		{"usage", client.ErrUsage, func() error { _, err := bob.Do(ctx, []string{"ls", "--frob"}, nil, 0, nil); return err }},
		{"integrity", client.ErrHashMismatch, func() error {
			return putErr(bob, "h", "content", client.PutOptions{SHA256: strings.Repeat("0", 64)})
		}},
		// An empty new download password (a malformed --sha256 is a usage
		// error: it is refused as the command line is parsed).
		{"invalid", client.ErrInvalid, func() error {
			_, err := bob.Do(ctx, []string{"protect", "h0", "--password", ""}, nil, 0, nil)
			return err
		}},
		{"conflict", client.ErrConflict, func() error { return alice.Unprotect(ctx, "mine.txt", "pw") }},
		{"incomplete", client.ErrIncomplete, func() error {
			_, err := connect(t, srv, "bob").Do(ctx, []string{"put", "short"}, strings.NewReader("abc"), 10, nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			err := tt.provoke()
			var se *client.Error
			if !errors.As(err, &se) || se.Kind != tt.kind {
				t.Fatalf("%v (%#v): want kind %q", err, se, tt.kind)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("%v: does not match %v", err, tt.sentinel)
			}
			if strings.HasPrefix(se.Message, "[") || !strings.HasPrefix(se.Message, "sshelf: ") {
				t.Errorf("message %q: want the error line without its token", se.Message)
			}
			for _, other := range tests {
				if other.kind != tt.kind && errors.Is(err, other.sentinel) && other.sentinel != client.ErrUsage {
					t.Errorf("%v: also matches %v", err, other.sentinel)
				}
			}
		})
	}
}

// TestTokenlessServerFallsBack: an older server's end line has no token;
// the reason's words still match.
func TestTokenlessErrorFallsBack(t *testing.T) {
	e := &client.Error{Status: 1, Message: "sshelf: get: x: no such file"}
	if !errors.Is(e, client.ErrNotFound) || errors.Is(e, client.ErrPermission) {
		t.Errorf("%v: fallback on the reason failed", e)
	}
}

// TestBusyKind: a session over the server's session limits is answered,
// before any request, with the busy token.
func TestBusyKind(t *testing.T) {
	srv := apptest.Start(t, func(o *app.Options) { o.MaxSessionsPerUser = 1 })
	connect(t, srv, "alice") // holds alice's one session
	over := connect(t, srv, "alice")
	_, err := over.Whoami(context.Background())
	var se *client.Error
	if !errors.As(err, &se) || se.Kind != "busy" || !errors.Is(err, client.ErrBusy) || !errors.Is(err, client.ErrThrottled) {
		t.Fatalf("%v (%#v): want the busy kind", err, se)
	}
}
