package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/client"
)

// dialKnown logs in checking the host key against a known_hosts file that
// holds only the server's Ed25519 key, as ssh-keyscan would write it.
func dialKnown(t *testing.T, srv *apptest.Server, user string) *client.Client {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, srv.HostKey)
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, algos, err := client.KnownHosts(srv.Addr, kh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(context.Background(), srv.Addr, client.Config{
		User: user, Password: user + "-pw", HostKeyCallback: cb, HostKeyAlgorithms: algos,
	})
	if err != nil {
		t.Fatalf("dial with known_hosts: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestMirror(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "alpha\n")
	write("b.bin", "\x00\x01binary\xff")
	write("-odd name", "dash")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	alice := dialKnown(t, srv, "alice")

	var out bytes.Buffer
	failed, err := mirror(ctx, alice, dir, options{Download: true}, &out)
	if err != nil || failed != 0 {
		t.Fatalf("first mirror: %d failed, %v\n%s", failed, err, out.String())
	}
	for _, want := range []string{"put      ", "verified ", "skip     sub"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	list, err := alice.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("listing after mirror: %v, %v", list, err)
	}

	write("a.txt", "alpha v2\n")
	out.Reset()
	if failed, err := mirror(ctx, alice, dir, options{}, &out); err != nil || failed != 0 {
		t.Fatalf("second mirror: %d failed, %v\n%s", failed, err, out.String())
	}
	if !strings.Contains(out.String(), "put      ") || strings.Count(out.String(), "same     ") != 2 {
		t.Errorf("second mirror should send only a.txt:\n%s", out.String())
	}
	var got bytes.Buffer
	if err := alice.Get(ctx, "a.txt", &got, ""); err != nil || got.String() != "alpha v2\n" {
		t.Errorf("a.txt after the change: %q, %v", got.String(), err)
	}

	// Another user's mirror of the same names is refused file by file.
	bob := dialKnown(t, srv, "bob")
	out.Reset()
	failed, err = mirror(ctx, bob, dir, options{}, &out)
	if err != nil || failed != 3 || strings.Count(out.String(), "name taken by another user") != 3 {
		t.Errorf("bob's mirror: %d failed, %v\n%s", failed, err, out.String())
	}
}
