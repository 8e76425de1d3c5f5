package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// pendingPut is an `ssh ... put` whose input the test feeds by hand.
type pendingPut struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
	done  chan error
}

func startPut(t *testing.T, srv *server, user, pw, name string) *pendingPut {
	t.Helper()
	return startPutWith(t, srv, sshOpts{user: user, pw: pw}, name)
}

// startPutWith starts `ssh ... put NAME` with o; what it prints, on
// stdout and stderr, goes to p.out.
func startPutWith(t *testing.T, srv *server, o sshOpts, name string) *pendingPut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*sshTimeout)
	t.Cleanup(cancel)
	p := &pendingPut{name: name, done: make(chan error, 1)}
	p.cmd = srv.sshCommand(ctx, o, "put", q(name))
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start put %s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stdin.Close()
		p.cmd.Process.Kill()
	})
	return p
}

// tmpFiles counts uploads in progress on the server's disk.
func tmpFiles(dataDir string) int {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "tmp"))
	return len(entries)
}

// TestCrashKill9 kills the server with SIGKILL while uploads are in every
// state: acknowledged, fully sent but unanswered, half sent. After a
// restart every acknowledged upload is there and whole, no half-sent one
// is visible, and the data directory holds no leftover bytes.
func TestCrashKill9(t *testing.T) {
	t.Parallel()
	inst := newInstance(t)
	srv := inst.start(t)
	login(t, srv, "alice", "pw-alice")

	acked := map[string][]byte{}
	for i := 0; i < 8; i++ {
		name := fmt.Sprintf("acked-%d", i)
		content := testkit.RandBytes(t, 1000+i*50000)
		put(t, srv, "alice", "pw-alice", name, content)
		acked[name] = content
	}

	// Half-sent uploads: part of the content, then nothing.
	var half []*pendingPut
	for i := 0; i < 4; i++ {
		p := startPut(t, srv, "alice", "pw-alice", fmt.Sprintf("half-%d", i))
		if _, err := p.stdin.Write(testkit.RandBytes(t, 512<<10)); err != nil {
			t.Fatalf("feeding %s: %v", p.name, err)
		}
		half = append(half, p)
	}
	// Fully sent uploads racing the kill: either committed whole or absent.
	racing := map[string][]byte{}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("racing-%d", i)
		content := testkit.RandBytes(t, 2<<20)
		racing[name] = content
		p := startPut(t, srv, "alice", "pw-alice", name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stdin.Write(content)
			p.stdin.Close()
		}()
	}
	if !pollUntil(30*time.Second, func() bool { return tmpFiles(srv.dataDir()) >= len(half) }) {
		t.Fatalf("the half-sent uploads never reached the server")
	}

	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done
	wg.Wait()

	srv = inst.start(t)
	for name, content := range acked {
		if got := get(t, srv, "bob", "pw-bob", name); !bytes.Equal(got, content) {
			t.Errorf("%s: acknowledged upload lost or changed after kill -9", name)
		}
	}
	committed := len(acked)
	for name, content := range racing {
		r := do(t, srv, "bob", "pw-bob", nil, "get", q(name))
		switch {
		case r.code == 0 && bytes.Equal(r.stdout, content):
			committed++
		case r.code == 0:
			t.Errorf("%s: visible but not whole (%d of %d bytes)", name, len(r.stdout), len(content))
		case !strings.Contains(string(r.stderr), "no such file"):
			t.Errorf("%s: %v", name, r)
		}
	}
	for _, p := range half {
		r := do(t, srv, "bob", "pw-bob", nil, "info", q(p.name))
		if r.code != 1 {
			t.Errorf("%s: half-sent upload visible after kill -9: %v", p.name, r)
		}
	}
	// Start-up clean-up: no upload in progress, one blob per file.
	files := contentFiles(t, srv.dataDir())
	for _, f := range files {
		if strings.HasPrefix(f, "tmp"+string(filepath.Separator)) {
			t.Errorf("leftover upload after restart: %s", f)
		}
	}
	if len(files) != committed {
		t.Errorf("data dir holds %d content files for %d committed files: %q", len(files), committed, files)
	}
}

// TestSIGTERMDuringTransfers: on SIGTERM a transfer that finishes within
// the grace period is committed; one still unfinished when it ends is
// aborted and leaves nothing; no new connection is accepted meanwhile.
func TestSIGTERMDuringTransfers(t *testing.T) {
	t.Parallel()
	inst := newInstance(t, "--shutdown-grace", "8s")
	srv := inst.start(t)
	login(t, srv, "alice", "pw-alice")

	finishing := startPut(t, srv, "alice", "pw-alice", "finishing")
	first, rest := testkit.RandBytes(t, 256<<10), testkit.RandBytes(t, 1<<20)
	finishing.stdin.Write(first)
	stuck := startPut(t, srv, "alice", "pw-alice", "stuck")
	stuck.stdin.Write(testkit.RandBytes(t, 256<<10))
	if !pollUntil(30*time.Second, func() bool { return tmpFiles(srv.dataDir()) >= 2 }) {
		t.Fatal("uploads never reached the server")
	}

	srv.cmd.Process.Signal(syscall.SIGTERM)
	// New connections are refused once the server stops accepting.
	if !pollUntil(10*time.Second, func() bool {
		r := srv.ssh(t, sshOpts{user: "alice", pw: "pw-alice", timeout: 10 * time.Second}, "whoami")
		return r.code != 0
	}) {
		t.Error("the server still accepts new sessions after SIGTERM")
	}
	finishing.stdin.Write(rest)
	finishing.stdin.Close()
	if err := <-finishing.done; err != nil {
		t.Errorf("upload finished within the grace period failed: %v", err)
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not exit after the grace period")
	}
	if err := <-stuck.done; err == nil {
		t.Error("unfinished upload reported success")
	}

	srv = inst.start(t)
	if got := get(t, srv, "alice", "pw-alice", "finishing"); !bytes.Equal(got, append(first, rest...)) {
		t.Error("upload finished during the grace period is not stored whole")
	}
	if r := do(t, srv, "alice", "pw-alice", nil, "info", "stuck"); r.code != 1 {
		t.Errorf("aborted upload is visible: %v", r)
	}
	if n := tmpFiles(srv.dataDir()); n != 0 {
		t.Errorf("%d uploads left in tmp/", n)
	}
}

// TestDiskFull puts the data directory on a small tmpfs: an upload that
// does not fit fails with a clear error, stores nothing, and leaves the
// previous version intact.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	inst := newInstance(t, "--min-free-space", "0") // the file system's own ENOSPC (diskfull_test.go: the reserve)
	if err := os.Mkdir(inst.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", inst.dataDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", inst.dataDir).Run() })
	srv := inst.start(t)
	login(t, srv, "alice", "pw-alice")

	old := testkit.RandBytes(t, 2<<20)
	put(t, srv, "alice", "pw-alice", "keep", old)
	r := do(t, srv, "alice", "pw-alice", testkit.RandBytes(t, 40<<20), "put", "keep")
	if r.code != 1 || !strings.Contains(string(r.stderr), "sshelf: put: keep: no space left") {
		t.Fatalf("put larger than the disk: want exit 1 and a no-space error, got %v", r)
	}
	checkOneErrorLine(t, r, "sshelf: put: keep: ", "disk full")
	if got := get(t, srv, "alice", "pw-alice", "keep"); !bytes.Equal(got, old) {
		t.Fatal("the previous version did not survive a full disk")
	}
	if n := tmpFiles(srv.dataDir()); n != 0 {
		t.Errorf("%d partial uploads left in tmp/ after disk full", n)
	}
	// Space is back: a small upload works again.
	put(t, srv, "alice", "pw-alice", "after", []byte("fits"))
}
