package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// The data directory on a small tmpfs of its own, so that a test can fill
// the disk. Needs root (mount); the test is skipped otherwise.

const (
	diskSize    = 64 << 20
	diskMinFree = 16 << 20
	diskReserve = "sshelf.db-reserve" // app.ReserveFile
)

// newDiskInstance is an instance whose data directory is on a fresh
// tmpfs of diskSize bytes, unmounted when the test ends.
func newDiskInstance(t *testing.T) (*instance, string) {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", diskSize), "tmpfs", mnt).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v: %s", err, strings.TrimSpace(string(out)))
	}
	// Registered before the server starts, so it runs after the server's
	// own clean-up has stopped it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	in := newInstance(t, "--min-free-space", fmt.Sprint(diskMinFree))
	in.dataDir = filepath.Join(mnt, "data")
	return in, mnt
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fillDisk writes a new file in dir until the file system is full, as a
// process other than sshelf might; it returns the file's path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler-")
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; i < diskSize/len(buf)*2; i++ { // bounded: the disk is smaller
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	for _, n := range []int{4096, 1} { // the last partial pages
		for i := 0; i < len(buf)/n; i++ {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	if free := freeBytes(t, dir); free != 0 {
		t.Fatalf("filled the disk, yet %d bytes are free", free)
	}
	return f.Name()
}

func noSpaceRefusal(t *testing.T, r result, name string) {
	t.Helper()
	expectErr(t, r, 1, "sshelf: put: "+name+": ", "put on a full disk")
	if !strings.Contains(string(r.stderr), "no space left") {
		t.Errorf("put on a full disk: stderr %q does not say no space left", r.stderr)
	}
}

// TestDiskFullDeleteWorks: a full disk never traps users (rule 9): uploads stop above the
// --min-free-space reserve with "no space left"; once something else has
// filled the disk to its last byte, rm (ssh and sftp) and hide still work
// and free the space; then uploads and signups work again.
func TestDiskFullDeleteWorks(t *testing.T) {
	t.Parallel()
	in, mnt := newDiskInstance(t)
	srv := in.start(t)
	login(t, srv, "alice", defaultPasswd)
	login(t, srv, "bob", "bob-pw")
	if _, err := os.Stat(filepath.Join(in.dataDir, diskReserve)); err != nil {
		t.Fatalf("no disk reserve in the data directory: %v", err)
	}

	// Fill it with uploads until refused.
	const chunk = 4 << 20
	var stored []string
	refused := false
	for i := 0; i < diskSize/chunk+1 && !refused; i++ {
		name := fmt.Sprintf("f%02d", i)
		r := do(t, srv, "alice", defaultPasswd, testkit.RandBytes(t, chunk), "put", name)
		switch {
		case r.code == 0:
			stored = append(stored, name)
		case strings.Contains(string(r.stderr), "no space left"):
			noSpaceRefusal(t, r, name)
			refused = true
		default:
			t.Fatalf("put %s: %v", name, r)
		}
	}
	if !refused || len(stored) < 4 {
		t.Fatalf("uploads: %d stored, refused %v; want a few stored, then a refusal", len(stored), refused)
	}
	if free := freeBytes(t, mnt); free < diskMinFree-1<<20 {
		t.Errorf("uploads took the disk down to %d bytes free, below the %d reserved", free, diskMinFree)
	}
	t.Logf("%d uploads of %d MiB stored before the refusal", len(stored), chunk>>20)
	waitContentFiles(t, in.dataDir, contentFilesNamed(t, in.dataDir, "blobs"), 10e9) // nothing left in tmp/

	// Something else fills the disk to the last byte: deleting still works.
	fillDisk(t, mnt)
	noSpaceRefusal(t, do(t, srv, "alice", defaultPasswd, []byte("x"), "put", "more"), "more")
	mustOK(t, do(t, srv, "alice", defaultPasswd, nil, "rm", stored[0]), "rm on a full disk")
	// The file's space is free (the catalog's log took a little of it).
	if free := freeBytes(t, mnt); free < chunk*3/4 {
		t.Errorf("rm freed too little: %d bytes free", free)
	}
	expectErr(t, do(t, srv, "bob", "bob-pw", nil, "info", stored[0]), 1, "sshelf: info: "+stored[0]+": ", "info of the removed file")

	fillDisk(t, mnt)
	r := srv.sftpBatch(t, sshOpts{user: "alice", pw: defaultPasswd}, t.TempDir(), "rm "+stored[1])
	mustOK(t, r, "sftp rm on a full disk")
	expectErr(t, do(t, srv, "alice", defaultPasswd, nil, "info", stored[1]), 1, "sshelf: info: "+stored[1]+": ", "info of the file removed by sftp")

	fillDisk(t, mnt)
	mustOK(t, do(t, srv, "alice", defaultPasswd, nil, "hide", stored[2]), "hide on a full disk")
	if contains(lsNames(t, srv, "alice", defaultPasswd), stored[2]) {
		t.Errorf("hidden file %s still listed", stored[2])
	}

	// Freeing space makes room again: rm until the reserve and a file fit.
	rest := stored[3:]
	for freeBytes(t, mnt) < diskMinFree+2*chunk && len(rest) > 0 {
		mustOK(t, do(t, srv, "alice", defaultPasswd, nil, "rm", rest[0]), "rm "+rest[0])
		rest = rest[1:]
	}
	content := testkit.RandBytes(t, chunk)
	put(t, srv, "alice", defaultPasswd, "after.bin", content)
	if got := get(t, srv, "bob", "bob-pw", "after.bin"); testkit.SHA256Hex(got) != testkit.SHA256Hex(content) {
		t.Errorf("the upload after freeing space reads back otherwise")
	}
	login(t, srv, "newcomer", "newcomer-pw") // signup writes too
	if _, err := os.Stat(filepath.Join(in.dataDir, diskReserve)); err != nil {
		t.Errorf("the disk reserve was not made again once space was freed: %v", err)
	}
}

// contentFilesNamed is contentFiles restricted to one folder of the data
// directory.
func contentFilesNamed(t *testing.T, dataDir, folder string) []string {
	t.Helper()
	var out []string
	for _, f := range contentFiles(t, dataDir) {
		if strings.HasPrefix(f, folder+string(filepath.Separator)) {
			out = append(out, f)
		}
	}
	return out
}

// A server restarted on a full disk starts, and lets users delete.
func TestDiskFullRestart(t *testing.T) {
	t.Parallel()
	in, mnt := newDiskInstance(t)
	srv := in.start(t)
	put(t, srv, "alice", defaultPasswd, "a.bin", testkit.RandBytes(t, 4<<20))
	put(t, srv, "alice", defaultPasswd, "b.bin", testkit.RandBytes(t, 1<<20))
	srv.stop(t)
	if _, err := os.Stat(filepath.Join(in.dataDir, diskReserve)); err != nil {
		t.Fatalf("no disk reserve in the data directory: %v", err)
	}
	fillDisk(t, mnt)

	srv = in.start(t)
	mustOK(t, do(t, srv, "alice", defaultPasswd, nil, "rm", "a.bin"), "rm after a restart on a full disk")
	expectErr(t, do(t, srv, "alice", defaultPasswd, nil, "info", "a.bin"), 1, "sshelf: info: a.bin: ", "info of the removed file")
	mustOK(t, do(t, srv, "alice", defaultPasswd, nil, "hide", "b.bin"), "hide after a restart on a full disk")
	if free := freeBytes(t, mnt); free < 3<<20 {
		t.Errorf("rm freed too little: %d bytes free", free)
	}
}
