package tiedproc_test

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/tiedproc"
)

// A child started from a goroutine whose thread then ends (a goroutine
// that locked it and returned) lives on: the thread that started it is
// the starter's.
func TestChildOutlivesTheCallersThread(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // returning locked ends this thread
		started <- tiedproc.Start(cmd)
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	// Pdeathsig, had it come, would be at once; give it time to.
	select {
	case err := <-exited:
		exited <- err // for the deferred kill
		t.Fatalf("the child died with the thread of the goroutine that started it: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("Pdeathsig %v, want SIGKILL", cmd.SysProcAttr.Pdeathsig)
	}
}

// Start keeps the caller's other process attributes.
func TestStartKeepsSysProcAttr(t *testing.T) {
	// Field 5 of /proc/PID/stat is the process group.
	cmd := exec.Command("sh", "-c", "cut -d' ' -f5 /proc/$$/stat")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout = &out
	if err := tiedproc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if pgid, err := strconv.Atoi(strings.TrimSpace(out.String())); err != nil || pgid != cmd.Process.Pid {
		t.Errorf("child's process group %q, want its own (%d)", out.String(), cmd.Process.Pid)
	}
}
