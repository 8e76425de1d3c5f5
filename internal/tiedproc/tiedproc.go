// Package tiedproc starts child processes that are killed when this
// process ends, however it ends: test helpers (PostgreSQL, the S3 gateway,
// HAProxy) and benchmark servers must not outlive a test binary that
// crashed or was killed.
//
// Linux sends the parent-death signal (Pdeathsig) when the thread that
// started the child ends, not the process (go.dev/issue/27505), and Go
// ends a thread whenever a goroutine locked to it returns. A child started
// from an arbitrary goroutine can so be killed in the middle of a test.
// Here every child is started from one thread, locked for the life of the
// process.
package tiedproc

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

type startReq struct {
	cmd  *exec.Cmd
	done chan error
}

// The starter is process-wide by nature: the thread it holds is the
// parent of every child, for as long as the process lives.
var starter struct {
	once sync.Once
	reqs chan startReq
}

// Start starts cmd with SIGKILL as its parent-death signal, keeping the
// rest of cmd.SysProcAttr. Wait for it from any goroutine.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	starter.once.Do(func() {
		starter.reqs = make(chan startReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread stays
			for r := range starter.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	starter.reqs <- startReq{cmd, done}
	return <-done
}
