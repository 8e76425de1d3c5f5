package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// The contract's rules through the real OpenSSH sftp client, in batch
// mode: a command prefixed with '-' may fail without ending the batch; sftp
// exits 1 if any other fails.

const bobPasswd = "bob-pw-1"

func alice() sshOpts { return sshOpts{user: "alice", pw: defaultPasswd} }
func bob() sshOpts   { return sshOpts{user: "bob", pw: bobPasswd} }

func withEnv(o sshOpts, env ...string) sshOpts {
	o.setEnv = env
	return o
}

// wantDenied checks a batch that ran one refused command (prefixed '-')
// and says permission denied.
func wantDenied(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("%s: the batch itself failed: %v", what, r)
	}
	if !strings.Contains(string(r.stderr), "Permission denied") {
		t.Errorf("%s: want Permission denied on stderr, got %v", what, r)
	}
}

func mustSFTP(t *testing.T, srv *server, o sshOpts, dir string, lines ...string) result {
	t.Helper()
	r := srv.sftpBatch(t, o, dir, lines...)
	if r.code != 0 {
		t.Fatalf("sftp %q as %s: %v", lines, o.user, r)
	}
	return r
}

func TestSFTPPutGetRenameRemove(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	content := testkit.RandBytes(t, 3<<20+17)
	// A local 0600 file: the mode sent with the open must not hide it.
	writeLocal(t, dir, "data.bin", content, 0o600)
	mustSFTP(t, srv, alice(), dir,
		"pwd", "ls -la /", "put data.bin", "put data.bin /abs.bin", "put data.bin ./dot.bin",
		"ls -l data.bin", "get data.bin back.bin", "get /abs.bin back2.bin")
	for _, f := range []string{"back.bin", "back2.bin"} {
		if got := readLocal(t, filepath.Join(dir, f)); testkit.SHA256Hex(got) != testkit.SHA256Hex(content) {
			t.Errorf("%s: downloaded content differs", f)
		}
	}
	fi := info(t, srv, "alice", defaultPasswd, "data.bin")
	if fi.SHA256 != testkit.SHA256Hex(content) || fi.Size != int64(len(content)) || fi.Visibility != "public" || fi.Protected {
		t.Errorf("recorded %+v, want sha %s, public, unprotected", fi, testkit.SHA256Hex(content))
	}
	if got := sftpLs(t, srv, "bob", bobPasswd); strings.Join(got, " ") != "abs.bin data.bin dot.bin" {
		t.Errorf("ls: %q", got)
	}
	mustSFTP(t, srv, alice(), dir, "rename data.bin moved.bin", "rm abs.bin", "rm /dot.bin")
	if got := lsNames(t, srv, "alice", defaultPasswd); strings.Join(got, " ") != "moved.bin" {
		t.Errorf("after rename and rm: %q", got)
	}
	// A failing command ends a batch with exit 1, and sftp says why.
	r := srv.sftpBatch(t, alice(), dir, "get nothing.bin", "rm moved.bin")
	if r.code != 1 || !strings.Contains(string(r.stderr), "not found") {
		t.Errorf("get of a missing file: want exit 1 and not found, got %v", r)
	}
	if got := lsNames(t, srv, "alice", defaultPasswd); len(got) != 1 {
		t.Errorf("the batch went on after a failure: %q", got)
	}
}

// OpenSSH's sftp resumes an upload (reput, put -a) by opening without
// TRUNC and writing from the remote size on: the bytes already there are
// kept, and the result is committed whole. reget resumes a download.
func TestSFTPResumedTransfers(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	content := testkit.RandBytes(t, 1<<20+5)
	writeLocal(t, dir, "part.bin", content[:300000], 0o644)
	writeLocal(t, dir, "whole.bin", content, 0o644)
	mustSFTP(t, srv, alice(), dir, "put part.bin f.bin", "reput whole.bin f.bin")
	if fi := info(t, srv, "alice", defaultPasswd, "f.bin"); fi.SHA256 != testkit.SHA256Hex(content) || fi.Size != int64(len(content)) {
		t.Errorf("after reput: recorded %+v, want the whole file", fi)
	}
	writeLocal(t, dir, "back.bin", content[:12345], 0o644)
	mustSFTP(t, srv, alice(), dir, "reget f.bin back.bin")
	if got := readLocal(t, filepath.Join(dir, "back.bin")); testkit.SHA256Hex(got) != testkit.SHA256Hex(content) {
		t.Error("reget: downloaded content differs")
	}
}

// Rules 1 and 2, and SSHELF_HIDDEN.
func TestSFTPHiddenFiles(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeLocal(t, dir, "secret", []byte("hidden content\n"), 0o644)
	writeLocal(t, dir, "open", []byte("public content\n"), 0o644)
	mustSFTP(t, srv, withEnv(alice(), "SSHELF_HIDDEN=1"), dir, "put secret")
	mustSFTP(t, srv, alice(), dir, "put open")
	if fi := info(t, srv, "alice", defaultPasswd, "secret"); fi.Visibility != "hidden" {
		t.Errorf("put with SSHELF_HIDDEN=1: %+v", fi)
	}
	for _, who := range []sshOpts{alice(), bob()} {
		if got := sftpLs(t, srv, who.user, who.pw); strings.Join(got, " ") != "open" {
			t.Errorf("ls as %s: %q, want only the public file", who.user, got)
		}
	}
	// By exact name: stat, get; the owner's rm.
	bobDir := t.TempDir()
	r := mustSFTP(t, srv, bob(), bobDir, "ls -l secret", "get secret")
	if !strings.Contains(string(r.stdout), "secret") {
		t.Errorf("stat of the hidden file: %v", r)
	}
	if got := readLocal(t, filepath.Join(bobDir, "secret")); string(got) != "hidden content\n" {
		t.Errorf("get of the hidden file: %q", got)
	}
	wantDenied(t, srv.sftpBatch(t, bob(), bobDir, "-rm secret"), "rm of a hidden file by another")
	mustSFTP(t, srv, alice(), dir, "rm secret")
	if r := do(t, srv, "alice", defaultPasswd, nil, "info", "secret"); r.code != 1 {
		t.Errorf("hidden file still there after rm: %v", r)
	}
}

// Rule 3 and SSHELF_FILE_PASSWORD, both ways.
func TestSFTPProtectedFiles(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeLocal(t, dir, "locked", []byte("protected content\n"), 0o644)
	mustSFTP(t, srv, withEnv(alice(), "SSHELF_FILE_PASSWORD=open-sesame"), dir, "put locked")
	if fi := info(t, srv, "alice", defaultPasswd, "locked"); !fi.Protected || fi.Visibility != "public" {
		t.Errorf("put with SSHELF_FILE_PASSWORD: %+v", fi)
	}
	bobDir := t.TempDir()
	wantDenied(t, srv.sftpBatch(t, bob(), bobDir, "-get locked"), "get without the password")
	wantDenied(t, srv.sftpBatch(t, withEnv(bob(), "SSHELF_FILE_PASSWORD=wrong"), bobDir, "-get locked"), "get with a wrong password")
	wantDenied(t, srv.sftpBatch(t, alice(), bobDir, "-get locked"), "the owner's get without the password")
	if _, err := os.Stat(filepath.Join(bobDir, "locked")); err == nil {
		t.Errorf("a refused get left a local file")
	}
	mustSFTP(t, srv, withEnv(bob(), "SSHELF_FILE_PASSWORD=open-sesame"), bobDir, "get locked")
	if got := readLocal(t, filepath.Join(bobDir, "locked")); string(got) != "protected content\n" {
		t.Errorf("get with the password: %q", got)
	}
	// Stat and listing need no password.
	if got := sftpLs(t, srv, "bob", bobPasswd); strings.Join(got, " ") != "locked" {
		t.Errorf("ls: %q", got)
	}
}

// Rules 4 and 5: only the owner changes a file; a put onto another's name
// is refused and changes nothing.
func TestSFTPOwnerOnly(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeLocal(t, dir, "mine", []byte("alice's\n"), 0o644)
	mustSFTP(t, srv, alice(), dir, "put mine")
	before := info(t, srv, "alice", defaultPasswd, "mine")

	bobDir := t.TempDir()
	writeLocal(t, bobDir, "mine", []byte("bob's attempt\n"), 0o644)
	writeLocal(t, bobDir, "other", []byte("bob's\n"), 0o644)
	mustSFTP(t, srv, bob(), bobDir, "put other")
	for _, cmd := range []string{"-rm mine", "-rename mine stolen", "-chmod 600 mine", "-chmod 644 mine", "-put mine", "-put other mine", "-rename other mine"} {
		wantDenied(t, srv.sftpBatch(t, bob(), bobDir, cmd), "bob: "+cmd)
	}
	if after := info(t, srv, "alice", defaultPasswd, "mine"); after != before {
		t.Errorf("another's changes went through: %+v -> %+v", before, after)
	}
	if got := get(t, srv, "alice", defaultPasswd, "mine"); string(got) != "alice's\n" {
		t.Errorf("content changed: %q", got)
	}
	// The owner replaces atomically and renames.
	writeLocal(t, dir, "mine", []byte("alice's v2\n"), 0o644)
	mustSFTP(t, srv, alice(), dir, "put mine", "rename mine renamed")
	if got := get(t, srv, "bob", bobPasswd, "renamed"); string(got) != "alice's v2\n" {
		t.Errorf("after replace and rename: %q", got)
	}
}

// chmod by the owner: no read bit for others hides, 644 unhides.
func TestSFTPChmodSetsVisibility(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeLocal(t, dir, "f", []byte("x"), 0o644)
	mustSFTP(t, srv, alice(), dir, "put f", "chmod 600 f")
	if fi := info(t, srv, "alice", defaultPasswd, "f"); fi.Visibility != "hidden" {
		t.Errorf("chmod 600: %+v", fi)
	}
	if got := lsNames(t, srv, "bob", bobPasswd); len(got) != 0 {
		t.Errorf("hidden by chmod yet listed: %q", got)
	}
	mustSFTP(t, srv, alice(), dir, "chmod 644 /f")
	if fi := info(t, srv, "alice", defaultPasswd, "f"); fi.Visibility != "public" {
		t.Errorf("chmod 644: %+v", fi)
	}
	mustSFTP(t, srv, alice(), dir, "chmod 640 f")
	if fi := info(t, srv, "alice", defaultPasswd, "f"); fi.Visibility != "hidden" {
		t.Errorf("chmod 640: %+v", fi)
	}
}

func TestSFTPRefusesDirectoriesAndLinks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeLocal(t, dir, "f", []byte("x"), 0o644)
	mustSFTP(t, srv, alice(), dir, "put f")
	for _, cmd := range []string{"-mkdir d", "-rmdir /", "-symlink f l", "-ln f l2", "-put f /d/f", "-rename f d/f"} {
		r := srv.sftpBatch(t, alice(), dir, cmd)
		if r.code != 0 || len(r.stderr) == 0 {
			t.Errorf("%s: want a refusal, got %v", cmd, r)
		}
	}
	for _, cmd := range []string{"-mkdir d", "-rmdir /", "-symlink f l", "-ln f l2"} {
		wantDenied(t, srv.sftpBatch(t, alice(), dir, cmd), cmd)
	}
	// Without '-', a refusal ends the batch with exit 1.
	if r := srv.sftpBatch(t, alice(), dir, "mkdir d"); r.code != 1 {
		t.Errorf("mkdir: want exit 1, got %v", r)
	}
	if got := lsNames(t, srv, "alice", defaultPasswd); strings.Join(got, " ") != "f" {
		t.Errorf("after refused operations: %q", got)
	}
}

// Rule 7: a download is checked against the recorded SHA-256; a mismatch
// fails, through sftp and both kinds of scp.
func TestSFTPAndSCPDownloadsCheckTheHash(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	content := testkit.RandBytes(t, 256<<10)
	put(t, srv, "alice", defaultPasswd, "f", content)
	blobs := contentFiles(t, srv.dataDir())
	if len(blobs) != 1 {
		t.Fatalf("want one stored content file, got %q", blobs)
	}
	// Flip one byte of the stored content, keeping its size.
	p := filepath.Join(srv.dataDir(), blobs[0])
	stored := readLocal(t, p)
	stored[len(stored)/2] ^= 0xff
	if err := os.WriteFile(p, stored, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if r := srv.sftpBatch(t, alice(), dir, "get f"); r.code == 0 {
		t.Errorf("sftp get of corrupt content: want a failure, got %v", r)
	}
	for _, mode := range [][]string{nil, {"-O"}} {
		r := srv.scp(t, alice(), dir, append(mode, srv.remote("alice", "f"), "scp.out")...)
		if r.code == 0 {
			t.Errorf("scp %q of corrupt content: want a failure, got %v", mode, r)
		}
	}
}

// Rule 8: wrong download passwords through SFTP count, and lock the
// account out of the file, its right password included.
func TestSFTPWrongPasswordsAreThrottled(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--file-password-max-failures", "3", "--file-password-delay", "1ms")
	put(t, srv, "alice", defaultPasswd, "locked", []byte("x"), "--password", "right")
	dir := t.TempDir()
	r := srv.sftpBatch(t, withEnv(bob(), "SSHELF_FILE_PASSWORD=wrong"), dir, "-get locked", "-get locked", "-get locked", "-get locked")
	if strings.Count(string(r.stderr), "Permission denied") != 4 {
		t.Errorf("wrong passwords: want 4 refusals, got %v", r)
	}
	wantDenied(t, srv.sftpBatch(t, withEnv(bob(), "SSHELF_FILE_PASSWORD=right"), dir, "-get locked"), "right password while locked out")
	if strings.Contains(srv.logText(), "wrong\"") || strings.Contains(srv.logText(), "=wrong") {
		t.Errorf("a password appears in the log")
	}
	// Another account is not locked out.
	mustSFTP(t, srv, withEnv(alice(), "SSHELF_FILE_PASSWORD=right"), dir, "get locked")
}

// Rule 6: a client killed in the middle of an upload leaves nothing: no
// file, no temporary content. The upload is sent at a limited rate so the
// kill lands mid-transfer.
func TestSFTPAndSCPKilledUploadsLeaveNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	writeRandomFile(t, filepath.Join(dir, "big"), 200<<20)
	const rate = "80000" // Kbit/s: 200 MB take 20 s
	clients := []struct {
		name  string
		group bool // kill ssh too: the connection drops without an EOF
		cmd   func(ctx context.Context) *exec.Cmd
	}{
		{"sftp", false, func(ctx context.Context) *exec.Cmd {
			o := alice()
			o.extra = []string{"-l", rate}
			return srv.sftpCommand(t, ctx, o, dir, "put big")
		}},
		{"scp", true, func(ctx context.Context) *exec.Cmd {
			return srv.scpCommand(ctx, alice(), dir, "-l", rate, "big", srv.remote("alice", ""))
		}},
		{"scp -O", false, func(ctx context.Context) *exec.Cmd {
			return srv.scpCommand(ctx, alice(), dir, "-O", "-l", rate, "big", srv.remote("alice", ""))
		}},
	}
	for _, c := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
		cmd := c.cmd(ctx)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("%s: %v", c.name, err)
		}
		started := pollUntil(30*time.Second, func() bool { return tempBytes(srv.dataDir()) >= 1<<20 })
		if c.group {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			cmd.Process.Kill()
		}
		cmd.Wait()
		cancel()
		if !started {
			t.Fatalf("%s: the upload never started", c.name)
		}
		waitContentFiles(t, srv.dataDir(), nil, 15*time.Second)
		if r := do(t, srv, "alice", defaultPasswd, nil, "info", "big"); r.code != 1 {
			t.Errorf("%s: killed upload stored: %v", c.name, r)
		}
	}
	// Each was seen as an upload that broke off, not as a refusal.
	aborted := func() int {
		n := 0
		for _, m := range srv.jsonLines() {
			if m["msg"] == "op" && m["command"] == "put" && strings.Contains(fmt.Sprint(m["result"]), "incomplete") {
				n++
			}
		}
		return n
	}
	if !pollUntil(10*time.Second, func() bool { return aborted() == len(clients) }) {
		t.Errorf("want %d aborted uploads in the log, got %d", len(clients), aborted())
	}
}

// tempBytes is how much the server's uploads in progress hold.
func tempBytes(dataDir string) int64 {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "tmp"))
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestLargeTransfersKeepServerMemoryFlat sends 1 GiB up and down through
// sftp, scp and scp -O and reports the server process's peak RSS, which
// must stay far below the file's size.
//
//	SSHELF_E2E_LARGE=1 go test -run LargeTransfers -v ./e2e/
func TestLargeTransfersKeepServerMemoryFlat(t *testing.T) {
	if testing.Short() || os.Getenv("SSHELF_E2E_LARGE") == "" {
		t.Skip("set SSHELF_E2E_LARGE=1 to transfer 1 GiB through sftp and scp")
	}
	srv := startServer(t)
	dir := t.TempDir()
	const size = 1 << 30
	writeRandomFile(t, filepath.Join(dir, "large"), size)
	o := alice()
	o.timeout = 10 * time.Minute
	runs := []struct {
		name string
		run  func() result
	}{
		{"sftp put", func() result { return srv.sftpBatch(t, o, dir, "put large sftp.bin") }},
		{"sftp get", func() result { return srv.sftpBatch(t, o, dir, "get sftp.bin sftp.out") }},
		{"scp put", func() result { return srv.scp(t, o, dir, "large", srv.remote("alice", "scp.bin")) }},
		{"scp get", func() result { return srv.scp(t, o, dir, srv.remote("alice", "scp.bin"), "scp.out") }},
		{"scp -O put", func() result { return srv.scp(t, o, dir, "-O", "large", srv.remote("alice", "legacy.bin")) }},
		{"scp -O get", func() result { return srv.scp(t, o, dir, "-O", srv.remote("alice", "legacy.bin"), "legacy.out") }},
	}
	for _, r := range runs {
		start := time.Now()
		res := r.run()
		if res.code != 0 {
			t.Fatalf("%s: %v", r.name, res)
		}
		t.Logf("%s: %v; server peak RSS so far %s", r.name, time.Since(start).Round(time.Millisecond), serverPeakRSS(srv))
	}
	want := info(t, srv, "alice", defaultPasswd, "sftp.bin").SHA256
	for _, name := range []string{"scp.bin", "legacy.bin"} {
		if got := info(t, srv, "alice", defaultPasswd, name).SHA256; got != want {
			t.Errorf("%s recorded %s, want %s", name, got, want)
		}
	}
	for _, f := range []string{"sftp.out", "scp.out", "legacy.out"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() != size {
			t.Errorf("%s: %v, %v", f, fi, err)
		}
	}
	if kb := serverPeakRSSKB(srv); kb > 300<<10 {
		t.Errorf("server peak RSS %d kB for 1 GiB transfers: memory is not flat", kb)
	}
}

// Issue 14: OpenSSH's sftp asks for the server's limits@openssh.com and
// sizes its requests by them, as it does with OpenSSH's own server (255 KiB
// both ways, not the 32 KiB it falls back to). The transfers stay whole.
func TestSFTPClientUsesTheServersLimits(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	dir := t.TempDir()
	content := testkit.RandBytes(t, 5<<20+333)
	writeLocal(t, dir, "big.bin", content, 0o644)
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte("put big.bin\nget big.bin back.bin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args, env := srv.clientArgs(alice())
	args = append(args, "-vvv", "-b", batch, "alice@"+srv.host)
	r := runClient(t, dir, env, 0, "sftp", args...)
	if r.code != 0 {
		t.Fatalf("sftp: %v", r)
	}
	if want := "using 261120 / 261120"; !strings.Contains(string(r.stderr), want) {
		t.Errorf("sftp's debug output lacks %q: the client did not take the server's limits", want)
	}
	if got := readLocal(t, filepath.Join(dir, "back.bin")); testkit.SHA256Hex(got) != testkit.SHA256Hex(content) {
		t.Error("downloaded content differs")
	}
	if fi := info(t, srv, "alice", defaultPasswd, "big.bin"); fi.SHA256 != testkit.SHA256Hex(content) {
		t.Errorf("recorded %+v", fi)
	}
}
