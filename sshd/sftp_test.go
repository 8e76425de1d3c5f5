package sshd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/testkit"
)

// These tests drive the SFTP subsystem with pkg/sftp's client: a second
// client besides OpenSSH (whose tests are in e2e/).

// sftpClient logs in as user and opens an SFTP session with the given
// environment (NAME, VALUE pairs).
func sftpClient(t testing.TB, srv *apptest.Server, user, pw string, env ...string) *sftp.Client {
	t.Helper()
	return sftpClientOpts(t, srv, user, pw, env)
}

func sftpClientOpts(t testing.TB, srv *apptest.Server, user, pw string, env []string, opts ...sftp.ClientOption) *sftp.Client {
	t.Helper()
	return sftpOn(t, srv.Dial(t, user, pw), env, opts...)
}

// sftpOn opens an SFTP session on conn with the given environment.
func sftpOn(t testing.TB, conn *gossh.Client, env []string, opts ...sftp.ClientOption) *sftp.Client {
	t.Helper()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	for i := 0; i+1 < len(env); i += 2 {
		if err := sess.Setenv(env[i], env[i+1]); err != nil {
			t.Fatalf("setenv %s: %v", env[i], err)
		}
	}
	w, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}
	c, err := sftp.NewClientPipe(r, w, opts...)
	if err != nil {
		t.Fatalf("sftp client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sftpPut(t testing.TB, c *sftp.Client, name string, content []byte) {
	t.Helper()
	f, err := c.Create(name)
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	if _, err := f.Write(content); err != nil {
		t.Fatalf("write %q: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %q: %v", name, err)
	}
}

func sftpGet(c *sftp.Client, name string) ([]byte, error) {
	f, err := c.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func listNames(t testing.TB, c *sftp.Client, dir string) []string {
	t.Helper()
	fis, err := c.ReadDir(dir)
	if err != nil {
		t.Fatalf("readdir %q: %v", dir, err)
	}
	var names []string
	for _, fi := range fis {
		names = append(names, fi.Name())
	}
	sort.Strings(names)
	return names
}

// wantStatus checks that err is an SFTP status with the given code.
func wantStatus(t testing.TB, err error, code uint32, what string) {
	t.Helper()
	// pkg/sftp's client turns the two commonest statuses into os errors.
	switch {
	case code == fxNoSuchFile && errors.Is(err, os.ErrNotExist),
		code == fxPermission && errors.Is(err, os.ErrPermission):
		return
	}
	var se *sftp.StatusError
	if !errors.As(err, &se) {
		t.Errorf("%s: want SFTP status %d, got %v", what, code, err)
		return
	}
	if se.Code != code {
		t.Errorf("%s: want SFTP status %d, got %d (%v)", what, code, se.Code, err)
	}
}

const (
	fxNoSuchFile    = 2
	fxPermission    = 3
	fxFailure       = 4
	fxOpUnsupported = 8
)

func info(t testing.TB, srv *apptest.Server, name string) files.File {
	t.Helper()
	f, err := srv.App.Files.Info(context.Background(), "nobody", name)
	if err != nil {
		t.Fatalf("info %q: %v", name, err)
	}
	return f
}

func TestSFTPRoundTrip(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClient(t, srv, "alice", "pw-alice")

	if wd, err := c.Getwd(); err != nil || wd != "/" {
		t.Errorf("realpath .: got %q, %v; want /", wd, err)
	}
	if fi, err := c.Stat("/"); err != nil || !fi.IsDir() {
		t.Fatalf("stat /: %v, %v", fi, err)
	}
	content := testkit.RandBytes(t, 300<<10)
	sftpPut(t, c, "/one.bin", content)
	sftpPut(t, c, "two.txt", []byte("hello\n"))
	sftpPut(t, c, "./empty", nil)

	if got := listNames(t, c, "/"); !equal(got, []string{"empty", "one.bin", "two.txt"}) {
		t.Errorf("list /: %q", got)
	}
	if got := listNames(t, c, "."); len(got) != 3 {
		t.Errorf("list .: %q", got)
	}
	got, err := sftpGet(c, "one.bin")
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("get one.bin: %d bytes, %v", len(got), err)
	}
	if f := info(t, srv, "one.bin"); f.SHA256 != testkit.SHA256Hex(content) || f.Owner != "alice" || f.Hidden || f.Protected {
		t.Errorf("recorded %+v, want sha %s, public, unprotected", f, testkit.SHA256Hex(content))
	}
	fi, err := c.Stat("/one.bin")
	if err != nil || fi.Size() != int64(len(content)) || fi.Mode().Perm() != 0o644 || fi.IsDir() {
		t.Errorf("stat one.bin: %v %v", fi, err)
	}
	if _, err := c.Stat("/nothing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat /nothing: want not exist, got %v", err)
	}
	_, err = c.Stat("/a/b")
	wantStatus(t, err, fxNoSuchFile, "stat /a/b")
	_, err = c.Create("/a/b")
	wantStatus(t, err, fxNoSuchFile, "create /a/b")

	if err := c.Rename("two.txt", "three.txt"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if err := c.PosixRename("three.txt", "four.txt"); err != nil {
		t.Fatalf("posix rename: %v", err)
	}
	if err := c.Remove("one.bin"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if got := listNames(t, c, "/"); !equal(got, []string{"empty", "four.txt"}) {
		t.Errorf("list after rm and rename: %q", got)
	}
	wantStatus(t, c.Mkdir("dir"), fxPermission, "mkdir")
	wantStatus(t, c.RemoveDirectory("/"), fxPermission, "rmdir")
	wantStatus(t, c.Symlink("four.txt", "link"), fxPermission, "symlink")
	wantStatus(t, c.Link("four.txt", "link"), fxPermission, "link")
	wantStatus(t, c.Chown("four.txt", 1, 1), fxOpUnsupported, "chown")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSFTPListsManyFilesInPages(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClient(t, srv, "alice", "pw")
	ctx := context.Background()
	var want []string
	for i := range 130 { // more than one READDIR answer (pkg/sftp sends 100)
		name := "f" + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + "-" + string(rune('0'+i%10))
		up, err := srv.App.Files.Create(ctx, "alice", files.PutOptions{Name: name, Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	sort.Strings(want)
	if got := listNames(t, c, "/"); !equal(got, want) {
		t.Errorf("listing has %d names, want %d", len(got), len(want))
	}
}

func TestSFTPHiddenAndProtected(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	hider := sftpClient(t, srv, "alice", "pw-a", "SSHELF_HIDDEN", "1")
	sftpPut(t, hider, "secret", []byte("hidden content"))
	locker := sftpClient(t, srv, "alice", "pw-a", "SSHELF_FILE_PASSWORD", "s3cret")
	sftpPut(t, locker, "locked", []byte("protected content"))

	if f := info(t, srv, "secret"); !f.Hidden || f.Protected {
		t.Errorf("secret: %+v, want hidden, unprotected", f)
	}
	if f := info(t, srv, "locked"); f.Hidden || !f.Protected {
		t.Errorf("locked: %+v, want public, protected", f)
	}

	bob := sftpClient(t, srv, "bob", "pw-b")
	if got := listNames(t, bob, "/"); !equal(got, []string{"locked"}) {
		t.Errorf("bob lists %q, want only locked", got)
	}
	if got := listNames(t, hider, "/"); !equal(got, []string{"locked"}) {
		t.Errorf("the owner lists %q: hidden files are listed to nobody", got)
	}
	if fi, err := bob.Stat("secret"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stat of a hidden file by exact name: %v, %v", fi, err)
	}
	if got, err := sftpGet(bob, "secret"); err != nil || string(got) != "hidden content" {
		t.Errorf("get hidden by exact name: %q, %v", got, err)
	}

	_, err := sftpGet(bob, "locked")
	wantStatus(t, err, fxPermission, "get protected without password")
	wrong := sftpClient(t, srv, "bob", "pw-b", "SSHELF_FILE_PASSWORD", "nope")
	_, err = sftpGet(wrong, "locked")
	wantStatus(t, err, fxPermission, "get protected with a wrong password")
	right := sftpClient(t, srv, "bob", "pw-b", "SSHELF_FILE_PASSWORD", "s3cret")
	if got, err := sftpGet(right, "locked"); err != nil || string(got) != "protected content" {
		t.Errorf("get protected with its password: %q, %v", got, err)
	}
	_, err = sftpGet(hider, "locked")
	wantStatus(t, err, fxPermission, "the owner's get without password")
}

func TestSFTPOwnerOnly(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	alice := sftpClient(t, srv, "alice", "pw-a")
	bob := sftpClient(t, srv, "bob", "pw-b")
	sftpPut(t, alice, "mine", []byte("alice's"))
	before := info(t, srv, "mine")

	wantStatus(t, bob.Remove("mine"), fxPermission, "rm by another")
	wantStatus(t, bob.Rename("mine", "theirs"), fxPermission, "rename by another")
	wantStatus(t, bob.Chmod("mine", 0o600), fxPermission, "chmod by another")
	wantStatus(t, bob.Chtimes("mine", time.Now(), time.Now()), fxPermission, "chtimes by another")
	_, err := bob.Create("mine")
	wantStatus(t, err, fxPermission, "put onto another's name")
	sftpPut(t, bob, "bobs", []byte("b"))
	wantStatus(t, bob.PosixRename("bobs", "mine"), fxPermission, "rename onto another's name")

	if after := info(t, srv, "mine"); after != before {
		t.Errorf("file changed: %+v -> %+v", before, after)
	}

	// The owner: chmod 600 hides, 644 unhides; times are accepted.
	if err := alice.Chmod("mine", 0o600); err != nil {
		t.Fatalf("chmod 600: %v", err)
	}
	if !info(t, srv, "mine").Hidden || len(listNames(t, bob, "/")) != 1 {
		t.Errorf("chmod 600 did not hide")
	}
	if err := alice.Chmod("/mine", 0o644); err != nil {
		t.Fatalf("chmod 644: %v", err)
	}
	if info(t, srv, "mine").Hidden {
		t.Errorf("chmod 644 did not unhide")
	}
	if err := alice.Chtimes("mine", time.Now(), time.Now()); err != nil {
		t.Errorf("chtimes by the owner: %v", err)
	}
	if err := alice.Truncate("mine", before.Size); err != nil {
		t.Errorf("truncate to the same size: %v", err)
	}
	wantStatus(t, alice.Truncate("mine", 1), fxOpUnsupported, "truncate a stored file")
	// Replacing by the owner.
	sftpPut(t, alice, "mine", []byte("new"))
	if got, _ := sftpGet(bob, "mine"); string(got) != "new" {
		t.Errorf("after replace: %q", got)
	}
}

// What scp (fsetstat SIZE), lftp (size and times on the handle) and curl
// (fstat on the handle) do while an upload is open.
func TestSFTPUploadHandleSetstat(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClient(t, srv, "alice", "pw-a")
	// An OpenSSH client sends its local file's mode with the open.
	f, err := c.OpenFile("up", os.O_WRONLY|os.O_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 10 {
		t.Errorf("fstat of the open upload: %v, %v", fi, err)
	}
	if err := f.Truncate(4); err != nil {
		t.Fatalf("fsetstat size: %v", err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Errorf("fsetstat mode on an open upload: %v", err)
	}
	if err := c.Chtimes("up", time.Now(), time.Now()); err != nil {
		t.Errorf("fsetstat times: %v", err)
	}
	if _, err := srv.App.Files.Info(context.Background(), "alice", "up"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("an open upload is visible: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	got := info(t, srv, "up")
	if got.Size != 4 || got.SHA256 != testkit.SHA256Hex([]byte("0123")) || got.Hidden {
		t.Errorf("stored %+v, want 4 bytes 0123, public", got)
	}
	// Read back through a read-write handle.
	rw, err := c.OpenFile("rw", os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	rw.Write([]byte("abcdef"))
	buf := make([]byte, 3)
	if n, err := rw.ReadAt(buf, 2); n != 3 || string(buf) != "cde" {
		t.Errorf("read back: %q, %v", buf[:n], err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := info(t, srv, "rw"); got.SHA256 != testkit.SHA256Hex([]byte("abcdef")) {
		t.Errorf("rw stored %+v", got)
	}
}

// Writes that leave a hole (a resumed upload) must not store zeros the
// client never sent.
func TestSFTPUploadWithGapIsRefused(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClient(t, srv, "alice", "pw-a")
	f, err := c.Create("holey")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("tail"), 100); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f.Close(), fxFailure, "close with a gap")
	if _, err := srv.App.Files.Info(context.Background(), "alice", "holey"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("an upload with a gap was stored: %v", err)
	}
	testkit.WaitTmpEmpty(t, srv.Data)
}

// An open without TRUNC keeps the bytes the client does not write, as on
// any SFTP server: appends, in-place changes and resumed uploads work, each
// committed whole as a new version on close. EXCL refuses an existing name.
func TestSFTPOpenWithoutTruncKeepsOldBytes(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClient(t, srv, "alice", "pw-a")
	sftpPut(t, c, "f", []byte("0123456789"))
	content := func() string {
		b, err := sftpGet(c, "f")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	f, err := c.OpenFile("f", os.O_WRONLY|os.O_APPEND)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 10 {
		t.Errorf("stat of the open handle: %v, %v; want the old size 10", fi, err)
	}
	if _, err := f.WriteAt([]byte("ab"), 10); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := content(); got != "0123456789ab" {
		t.Errorf("after an append: %q", got)
	}

	f, err = c.OpenFile("f", os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("XY"), 2)
	b := make([]byte, 12)
	if n, err := f.ReadAt(b, 0); n != 12 || string(b) != "01XY456789ab" {
		t.Errorf("read back of an open handle: %q, %v", b[:n], err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := content(); got != "01XY456789ab" {
		t.Errorf("after a change in place: %q", got)
	}
	if got := info(t, srv, "f"); got.SHA256 != testkit.SHA256Hex([]byte("01XY456789ab")) {
		t.Errorf("recorded sha256 %s is not the new content's", got.SHA256)
	}

	if _, err := c.OpenFile("missing", os.O_WRONLY); err == nil {
		t.Error("an open for writing without CREAT of a missing name succeeded")
	}
	if _, err := c.OpenFile("f", os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("an exclusive create of an existing name succeeded")
	}
	f, err = c.OpenFile("g", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatalf("exclusive create of a new name: %v", err)
	}
	f.Write([]byte("new"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := content(); got != "01XY456789ab" {
		t.Errorf("f changed by a refused exclusive create: %q", got)
	}
	testkit.WaitTmpEmpty(t, srv.Data)
}

// pkg/sftp's client with concurrent writes sends them out of order; the
// recorded SHA-256 must still be the content's.
func TestSFTPConcurrentWritesRecordTheRightHash(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	c := sftpClientOpts(t, srv, "alice", "pw-a", nil,
		sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))
	content := testkit.RandBytes(t, 8<<20)
	f, err := c.Create("big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(content)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := info(t, srv, "big"); got.SHA256 != testkit.SHA256Hex(content) || got.Size != int64(len(content)) {
		t.Errorf("recorded %s (%d bytes), want %s", got.SHA256, got.Size, testkit.SHA256Hex(content))
	}
	// And concurrent reads back, checked as they go.
	r, err := c.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	r.Close()
	if !bytes.Equal(buf.Bytes(), content) {
		t.Errorf("downloaded content differs")
	}
}

// A session that breaks off with an upload open: pkg/sftp closes the
// handle anyway, and the upload must be aborted, not committed.
func TestSFTPBrokenSessionCommitsNothing(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	conn := srv.Dial(t, "alice", "pw-a")
	c := sftpOn(t, conn, nil)
	f, err := c.Create("partial")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(testkit.RandBytes(t, 1<<20)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // no close of the handle: the connection drops

	testkit.WaitTmpEmpty(t, srv.Data)
	if _, err := srv.App.Files.Info(context.Background(), "alice", "partial"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("a broken-off upload was stored: %v", err)
	}
}

// rawSubsystem opens a session channel, requests a terminal if pty, starts
// the sftp subsystem and returns the channel and the exit status it will
// report (-1 if none arrives before the channel closes).
func rawSubsystem(t *testing.T, srv *apptest.Server, pty bool) (gossh.Channel, <-chan int) {
	t.Helper()
	conn := srv.Dial(t, "alice", "pw-a")
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	status := exitStatusOf(reqs)
	if pty {
		payload := gossh.Marshal(struct {
			Term             string
			Cols, Rows, W, H uint32
			Modes            string
		}{"xterm", 80, 24, 0, 0, ""})
		if ok, err := ch.SendRequest("pty-req", true, payload); !ok || err != nil {
			t.Fatalf("pty-req: %v %v", ok, err)
		}
	}
	ok, err := ch.SendRequest("subsystem", true, gossh.Marshal(struct{ Name string }{"sftp"}))
	if !ok || err != nil {
		t.Fatalf("subsystem sftp: %v %v", ok, err)
	}
	return ch, status
}

func waitStatus(t *testing.T, status <-chan int) int {
	t.Helper()
	select {
	case code := <-status:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("no end of the session")
		return -1
	}
}

func TestSFTPRefusesATerminal(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	_, status := rawSubsystem(t, srv, true)
	if code := waitStatus(t, status); code != 1 {
		t.Errorf("sftp with a terminal: want exit status 1, got %d", code)
	}
}

func TestSFTPSessionExitStatus(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	ch, status := rawSubsystem(t, srv, false)
	c, err := sftp.NewClientPipe(ch, ch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat("/"); err != nil {
		t.Fatal(err)
	}
	ch.CloseWrite() // a clean end of the client's input
	if code := waitStatus(t, status); code != 0 {
		t.Errorf("clean end of an SFTP session: want exit status 0, got %d", code)
	}
	c.Close()
}
