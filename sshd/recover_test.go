package sshd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/disk"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/sshd"
)

// A panic in one session's handler (a bug not found yet) is recovered,
// logged with its stack at error level, and ends that session only. The
// bug is simulated below the transport, in the catalog: a name starting
// with "boom" panics on lookup and delete, one starting with "commit-boom"
// on commit.

type boomCatalog struct{ files.Catalog }

func (c boomCatalog) Lookup(ctx context.Context, name string) (files.Record, error) {
	if strings.HasPrefix(name, "boom") {
		panic("boom: lookup " + name)
	}
	return c.Catalog.Lookup(ctx, name)
}

func (c boomCatalog) Delete(ctx context.Context, name string, check func(files.Record) error) (files.Record, error) {
	if strings.HasPrefix(name, "boom") {
		panic("boom: delete " + name)
	}
	return c.Catalog.Delete(ctx, name, check)
}

func (c boomCatalog) Put(ctx context.Context, rec files.Record, check func(*files.Record, int64) error) (*files.Record, error) {
	if strings.HasPrefix(rec.Name, "commit-boom") {
		panic("boom: put " + rec.Name)
	}
	return c.Catalog.Put(ctx, rec, check)
}

// boomServer is a server over a boomCatalog, with tui as its terminal UI.
type boomServer struct {
	addr  string
	key   gossh.PublicKey
	blobs string // its DATA: tmp/ holds uploads in progress
	logs  *lockedBuffer
}

func startBoomServer(t *testing.T, tui sshd.TUIFunc) *boomServer {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	opt := apptest.Options(data)
	opt.Logger = logger
	a, err := app.Open(ctx, opt) // for its accounts
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	db, err := sqlitedb.Open(ctx, filepath.Join(data, "boom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	blobDir := filepath.Join(data, "boom")
	blobs, err := disk.New(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	svc := files.NewService(files.Config{
		Catalog: boomCatalog{cat}, Blobs: blobs, SpoolDir: blobs.TempDir(), Logger: logger,
		Hasher: testkit.CheapHasher(2),
	})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	srv := sshd.New(sshd.Config{
		Files: svc, Accounts: a.Accounts, HostKeys: []gossh.Signer{signer}, Logger: logger,
		IdleTimeout: time.Minute, TUI: tui,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &boomServer{addr: ln.Addr().String(), key: signer.PublicKey(), blobs: blobDir, logs: logs}
}

func (b *boomServer) dial(t *testing.T) *gossh.Client {
	t.Helper()
	c, err := gossh.Dial("tcp", b.addr, &gossh.ClientConfig{
		User: "alice", Auth: []gossh.AuthMethod{gossh.Password("pw-a")},
		HostKeyCallback: gossh.FixedHostKey(b.key), Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// panics returns the recovered panics logged since the last call.
func (b *boomServer) panics(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(b.logs.take(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "recovered from a panic" {
			out = append(out, rec)
		}
	}
	return out
}

// wantPanics checks the log: recovered panics, at error level, with the
// panic's value and a stack down to where it happened.
func (b *boomServer) wantPanics(t *testing.T, what string) {
	t.Helper()
	var got []map[string]any
	for range 200 { // the log line may follow the client's answer
		if got = append(got, b.panics(t)...); len(got) > 0 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if len(got) == 0 {
		t.Errorf("%s: no recovered panic logged", what)
	}
	for _, rec := range got {
		stack, _ := rec["stack"].(string)
		if rec["level"] != "ERROR" || !strings.HasPrefix(fmt.Sprint(rec["panic"]), "boom") || !strings.Contains(stack, "boomCatalog") {
			t.Errorf("%s: logged %v, want level ERROR, the panic and its stack", what, rec)
		}
	}
}

// run runs an exec command on conn and returns its exit status and stderr.
func run(t *testing.T, conn *gossh.Client, command string, stdin string, pty bool) (int, string) {
	t.Helper()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatalf("%s: session: %v", command, err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	sess.Stdin = strings.NewReader(stdin)
	if pty {
		if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		if command == "" {
			if err := sess.Shell(); err != nil {
				done <- err
				return
			}
			done <- sess.Wait()
			return
		}
		done <- sess.Run(command)
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%q did not end", command)
	}
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitStatus(), stderr.String()
	}
	t.Fatalf("%q: %v", command, err)
	return -1, ""
}

func TestPanicInASessionEndsThatSessionOnly(t *testing.T) {
	t.Parallel()
	b := startBoomServer(t, func(ssh.Session) { panic("boom: in the terminal UI") })
	conn := b.dial(t)
	for _, tt := range []struct {
		name, command, stdin string
		pty                  bool
	}{
		{"exec", "info boom", "", false},
		{"scp download", "scp -f boom", "\x00", false},
		{"scp upload, at commit", "scp -t commit-boom", "C0644 5 f\nhello\x00\x00", false},
		{"terminal UI", "", "", true},
	} {
		code, stderr := run(t, conn, tt.command, tt.stdin, tt.pty)
		if code != 1 || !strings.Contains(stderr, "sshelf: internal error") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and the internal error", tt.name, code, stderr)
		}
		if tt.name == "terminal UI" {
			if p := b.panics(t); len(p) != 1 || !strings.Contains(fmt.Sprint(p[0]["stack"]), "TestPanicInASessionEndsThatSessionOnly") {
				t.Errorf("terminal UI: logged %v", p)
			}
		} else {
			b.wantPanics(t, tt.name)
		}
		// The same connection goes on, and so does the server.
		if code, stderr := run(t, conn, "whoami", "", false); code != 0 {
			t.Fatalf("after %s: whoami exit %d %s", tt.name, code, stderr)
		}
	}
	testkit.WaitTmpEmpty(t, b.blobs)
	if code, _ := run(t, b.dial(t), "ls", "", false); code != 0 {
		t.Errorf("a new connection: ls exit %d", code)
	}
}

// pkg/sftp calls the SFTP handlers on goroutines of its own: each recovers
// for itself, answers with an error status, and the session goes on.
func TestPanicInAnSFTPHandlerIsAnErrorStatus(t *testing.T) {
	t.Parallel()
	b := startBoomServer(t, nil)
	c := sftpOn(t, b.dial(t), nil)
	for _, tt := range []struct {
		name string
		do   func() error
	}{
		{"stat", func() error { _, err := c.Stat("boom"); return err }},
		{"open for reading", func() error { _, err := c.Open("boom"); return err }},
		{"open for writing", func() error { _, err := c.Create("boom"); return err }},
		{"remove", func() error { return c.Remove("boom") }},
		{"close, at commit", func() error {
			f, err := c.Create("commit-boom")
			if err != nil {
				return fmt.Errorf("create: %v (not the panic)", err)
			}
			f.Write([]byte("hello"))
			return f.Close()
		}},
	} {
		err := tt.do()
		wantStatus(t, err, fxFailure, tt.name)
		if err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: %v, want the internal error", tt.name, err)
		}
		b.wantPanics(t, tt.name)
		// The same session goes on.
		if _, err := c.Stat("/"); err != nil {
			t.Fatalf("after %s: stat /: %v", tt.name, err)
		}
	}
	sftpPut(t, c, "fine", []byte("still serving"))
	testkit.WaitTmpEmpty(t, b.blobs)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}
