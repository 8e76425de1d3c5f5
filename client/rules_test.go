package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/client"
	"github.com/sshelf/sshelf/internal/testkit"
)

func connect(t testing.TB, srv *apptest.Server, user string, opts ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{
		User:              user,
		Password:          user + "-pw",
		HostKeyCallback:   ssh.FixedHostKey(srv.HostKey),
		HostKeyAlgorithms: []string{srv.HostKey.Type()},
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := client.Dial(context.Background(), srv.Addr, cfg)
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func put(t testing.TB, c *client.Client, name, content string, opts client.PutOptions) {
	t.Helper()
	if _, err := c.Put(context.Background(), name, strings.NewReader(content), int64(len(content)), opts); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func get(c *client.Client, name, password string) (string, error) {
	var b bytes.Buffer
	err := c.Get(context.Background(), name, &b, password)
	return b.String(), err
}

func names(files []client.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func TestRules(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	alice := connect(t, srv, "alice")
	bob := connect(t, srv, "bob")

	put(t, alice, "pub.txt", "public", client.PutOptions{})
	put(t, alice, "sec.txt", "hidden one", client.PutOptions{Hidden: true})
	put(t, alice, "prot.txt", "protected", client.PutOptions{Password: "pw1"})
	put(t, alice, "-dash", "a name like a flag", client.PutOptions{})

	t.Run("1 listing shows public files only, to everyone", func(t *testing.T) {
		for _, c := range []*client.Client{alice, bob} {
			list, err := c.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(list), ","); got != "-dash,prot.txt,pub.txt" {
				t.Errorf("listing %q", got)
			}
		}
	})
	t.Run("2 exact name reaches a hidden file", func(t *testing.T) {
		f, err := bob.Info(ctx, "sec.txt")
		if err != nil || !f.Hidden() || f.Owner != "alice" || f.SHA256 != testkit.SHA256Hex([]byte("hidden one")) || f.Size != 10 {
			t.Errorf("info: %+v, %v", f, err)
		}
		if sum, err := bob.Sum(ctx, "sec.txt"); err != nil || sum != testkit.SHA256Hex([]byte("hidden one")) {
			t.Errorf("sum: %s, %v", sum, err)
		}
		if got, err := get(bob, "sec.txt", ""); err != nil || got != "hidden one" {
			t.Errorf("get: %q, %v", got, err)
		}
		if got, err := get(bob, "-dash", ""); err != nil || got != "a name like a flag" {
			t.Errorf("get -dash: %q, %v", got, err)
		}
		_, err = bob.Info(ctx, "nope")
		testkit.WantErr(t, "info of a missing file", err, client.ErrNotFound)
	})
	t.Run("3 protected download needs the password, owner too", func(t *testing.T) {
		_, err := get(alice, "prot.txt", "")
		testkit.WantErr(t, "owner without password", err, client.ErrPasswordRequired)
		_, err = get(bob, "prot.txt", "wrong")
		testkit.WantErr(t, "wrong password", err, client.ErrWrongPassword)
		if got, err := get(bob, "prot.txt", "pw1"); err != nil || got != "protected" {
			t.Errorf("right password: %q, %v", got, err)
		}
		env := connect(t, srv, "bob", func(c *client.Config) { c.FilePassword = "pw1" })
		if got, err := get(env, "prot.txt", ""); err != nil || got != "protected" {
			t.Errorf("SSHELF_FILE_PASSWORD: %q, %v", got, err)
		}
		// Its SHA-256: to the owner, or with the password only.
		if f, err := alice.Info(ctx, "prot.txt"); err != nil || f.SHA256 != testkit.SHA256Hex([]byte("protected")) {
			t.Errorf("owner's info: %+v, %v", f, err)
		}
		if f, err := bob.Info(ctx, "prot.txt"); err != nil || f.SHA256 != "" || !f.Protected {
			t.Errorf("bob's info: %+v, %v", f, err)
		}
		_, err = bob.Sum(ctx, "prot.txt")
		testkit.WantErr(t, "bob's sum without password", err, client.ErrPasswordRequired)
		if sum, err := env.Sum(ctx, "prot.txt"); err != nil || sum != testkit.SHA256Hex([]byte("protected")) {
			t.Errorf("sum with SSHELF_FILE_PASSWORD: %s, %v", sum, err)
		}
	})
	t.Run("4 only the owner changes a file", func(t *testing.T) {
		testkit.WantErr(t, "bob rm", bob.Remove(ctx, "pub.txt"), client.ErrPermission)
		testkit.WantErr(t, "bob hide", bob.Hide(ctx, "pub.txt"), client.ErrPermission)
		testkit.WantErr(t, "bob unhide", bob.Unhide(ctx, "sec.txt"), client.ErrPermission)
		testkit.WantErr(t, "bob protect", bob.Protect(ctx, "pub.txt", "x", ""), client.ErrPermission)
		testkit.WantErr(t, "bob unprotect", bob.Unprotect(ctx, "prot.txt", "pw1"), client.ErrPermission)

		testkit.WantErr(t, "protect without the current password", alice.Protect(ctx, "prot.txt", "pw2", ""), client.ErrPasswordRequired)
		testkit.WantErr(t, "unprotect with a wrong password", alice.Unprotect(ctx, "prot.txt", "bad"), client.ErrWrongPassword)
		if err := alice.Protect(ctx, "prot.txt", "pw2", "pw1"); err != nil {
			t.Errorf("protect with the current password: %v", err)
		}
		if got, err := get(bob, "prot.txt", "pw2"); err != nil || got != "protected" {
			t.Errorf("get with the new password: %q, %v", got, err)
		}
		if err := alice.Unprotect(ctx, "prot.txt", "pw2"); err != nil {
			t.Errorf("unprotect: %v", err)
		}
		if got, err := get(bob, "prot.txt", ""); err != nil || got != "protected" {
			t.Errorf("get after unprotect: %q, %v", got, err)
		}
		if err := alice.Hide(ctx, "pub.txt"); err != nil {
			t.Errorf("hide: %v", err)
		}
		if list, _ := bob.List(ctx); strings.Contains(strings.Join(names(list), ","), "pub.txt") {
			t.Errorf("hidden file listed")
		}
		if err := alice.Unhide(ctx, "pub.txt"); err != nil {
			t.Errorf("unhide: %v", err)
		}
		put(t, alice, "doomed", "x", client.PutOptions{})
		if err := alice.Remove(ctx, "doomed"); err != nil {
			t.Errorf("rm: %v", err)
		}
		_, err := alice.Info(ctx, "doomed")
		testkit.WantErr(t, "info after rm", err, client.ErrNotFound)
	})
	t.Run("5 put onto another's name is refused", func(t *testing.T) {
		_, err := bob.Put(ctx, "pub.txt", strings.NewReader("bob's"), 5, client.PutOptions{})
		testkit.WantErr(t, "bob put", err, client.ErrNameTaken)
		if got, err := get(bob, "pub.txt", ""); err != nil || got != "public" {
			t.Errorf("after refused put: %q, %v", got, err)
		}
		put(t, alice, "pub.txt", "public v2", client.PutOptions{})
		if got, err := get(bob, "pub.txt", ""); err != nil || got != "public v2" {
			t.Errorf("after owner's replace: %q, %v", got, err)
		}
		_, err = alice.Put(ctx, "checked", strings.NewReader("abc"), 3, client.PutOptions{SHA256: testkit.SHA256Hex([]byte("abd"))})
		testkit.WantErr(t, "put --sha256 mismatch", err, client.ErrHashMismatch)
		_, err = alice.Info(ctx, "checked")
		testkit.WantErr(t, "info after a mismatching put", err, client.ErrNotFound)
	})
	t.Run("6 an interrupted upload leaves nothing", func(t *testing.T) {
		c := connect(t, srv, "alice")
		_, err := c.Put(ctx, "pub.txt", strings.NewReader("short"), 1000, client.PutOptions{})
		if err == nil {
			t.Fatal("put of a short reader succeeded")
		}
		_, err = c.List(ctx)
		testkit.WantErr(t, "the client after a cut-off put", err, client.ErrBroken)
		_, err = c.Put(ctx, "new.bin", io.LimitReader(zeros{}, 1<<20), 2<<20, client.PutOptions{})
		testkit.WantErr(t, "put on a broken client", err, client.ErrBroken)
		c2 := connect(t, srv, "carol")
		_, err = c2.Put(ctx, "never.bin", io.LimitReader(zeros{}, 1<<20), 2<<20, client.PutOptions{})
		if err == nil {
			t.Fatal("put of a short reader succeeded")
		}
		c2.Close()
		testkit.WaitTmpEmpty(t, srv.Data)
		_, err = bob.Info(ctx, "never.bin")
		testkit.WantErr(t, "info of the interrupted upload", err, client.ErrNotFound)
		if got, err := get(bob, "pub.txt", ""); err != nil || got != "public v2" {
			t.Errorf("old version after an interrupted replace: %q, %v", got, err)
		}
	})
	t.Run("6 a reader of the old version gets it whole", func(t *testing.T) {
		v1 := strings.Repeat("1", 8<<20)
		put(t, alice, "big", v1, client.PutOptions{})
		started := make(chan struct{})
		release := make(chan struct{})
		w := &gatedWriter{started: started, release: release}
		done := make(chan error, 1)
		reader := connect(t, srv, "bob")
		go func() { done <- reader.Get(ctx, "big", w, "") }()
		<-started
		put(t, alice, "big", strings.Repeat("2", 8<<20), client.PutOptions{})
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("get across a replace: %v", err)
		}
		if w.buf.String() != v1 {
			t.Errorf("reader got %d bytes, not the old version whole", w.buf.Len())
		}
	})
	t.Run("7 a corrupt stored file fails the download", func(t *testing.T) {
		content := strings.Repeat("good data ", 1000)
		put(t, alice, "rot", content, client.PutOptions{})
		corruptBlob(t, srv.Data, content)
		var b bytes.Buffer
		err := bob.Get(ctx, "rot", &b, "")
		var se *client.Error
		if !errors.As(err, &se) || se.Status != 1 || !strings.Contains(se.Message, "does not match its recorded sha256") {
			t.Errorf("get of a corrupt file: %v", err)
		}
		if _, err := bob.Sum(ctx, "pub.txt"); err != nil {
			t.Errorf("session after a failed download: %v", err)
		}
	})
	t.Run("8 wrong passwords are throttled per account and file", func(t *testing.T) {
		put(t, alice, "vault", "treasure", client.PutOptions{Password: "right"})
		var err error
		for i := 0; i < 10; i++ {
			_, err = get(bob, "vault", "wrong")
			if !errors.Is(err, client.ErrWrongPassword) && !errors.Is(err, client.ErrThrottled) {
				t.Fatalf("try %d: %v", i+1, err)
			}
		}
		_, err = get(bob, "vault", "right")
		testkit.WantErr(t, "the right password after 10 wrong ones", err, client.ErrThrottled)
		if err == nil || !strings.Contains(err.Error(), "try again later") {
			t.Errorf("throttle message %q", err)
		}
		if got, err := get(alice, "vault", "right"); err != nil || got != "treasure" {
			t.Errorf("another account: %q, %v", got, err)
		}
	})
}

// gatedWriter blocks its first write until release is closed.
type gatedWriter struct {
	buf     bytes.Buffer
	started chan struct{}
	release chan struct{}
	once    bool
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.started)
		<-w.release
	}
	return w.buf.Write(p)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// corruptBlob flips a byte of the stored blob holding content.
func corruptBlob(t *testing.T, data, content string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(data, "blobs", "*", "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			continue
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no blob holds the content")
}
