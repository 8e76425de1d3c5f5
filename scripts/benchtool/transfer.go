package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A way is one transfer method, up or down, as the OpenSSH client does it.
type way struct {
	name string // "exec upload", ...
	up   bool
	// cmd builds the client command moving src to t (up) or t's file to dst.
	cmd func(e *env, t *target, local, remote string) *exec.Cmd
}

var ways = []way{
	{"exec upload", true, func(e *env, t *target, local, remote string) *exec.Cmd {
		c := exec.Command("ssh", append(e.clientArgs("-p", t), t.user+"@127.0.0.1", t.putCmd(remote))...)
		c.Stdin = mustOpen(local)
		return c
	}},
	{"exec download", false, func(e *env, t *target, local, remote string) *exec.Cmd {
		c := exec.Command("ssh", append(e.clientArgs("-p", t), t.user+"@127.0.0.1", t.getCmd(remote))...)
		c.Stdout = mustCreate(local)
		return c
	}},
	{"sftp put", true, func(e *env, t *target, local, remote string) *exec.Cmd {
		return sftpBatch(e, t, fmt.Sprintf("put %s %s\n", local, t.remote(remote)))
	}},
	{"sftp get", false, func(e *env, t *target, local, remote string) *exec.Cmd {
		return sftpBatch(e, t, fmt.Sprintf("get %s %s\n", t.remote(remote), local))
	}},
	{"scp upload", true, func(e *env, t *target, local, remote string) *exec.Cmd {
		return exec.Command("scp", append(e.clientArgs("-P", t), local, t.user+"@127.0.0.1:"+t.remote(remote))...)
	}},
	{"scp download", false, func(e *env, t *target, local, remote string) *exec.Cmd {
		return exec.Command("scp", append(e.clientArgs("-P", t), t.user+"@127.0.0.1:"+t.remote(remote), local)...)
	}},
}

func sftpBatch(e *env, t *target, batch string) *exec.Cmd {
	c := exec.Command("sftp", append(e.clientArgs("-P", t), "-b", "-", t.user+"@127.0.0.1")...)
	c.Stdin = strings.NewReader(batch)
	return c
}

func mustOpen(p string) *os.File {
	f, err := os.Open(p)
	if err != nil {
		panic(err)
	}
	return f
}

func mustCreate(p string) *os.File {
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	return f
}

// runTransfers moves a file of c.size up and down each way, alternating
// the servers and which goes first, and records MB/s and sshelf's peak RSS.
func runTransfers(ctx context.Context, e *env, c config, rep *report) error {
	sh, err := e.startSshelf(ctx, filepath.Join(e.dir, "sshelf-data"), "bench")
	if err != nil {
		return err
	}
	ossh, err := e.startSSHD(ctx)
	if err != nil {
		return err
	}
	rep.ciphers = [2]string{negotiated(e, sh), negotiated(e, ossh)}
	src := filepath.Join(e.dir, "src.bin")
	if err := randomFile(src, c.size); err != nil {
		return err
	}
	dst := filepath.Join(e.dir, "dst.bin")
	if err := sanityCheck(e, []*target{sh, ossh}); err != nil {
		return err
	}
	for r := 0; r < c.rounds; r++ {
		targets := []*target{sh, ossh}
		if r%2 == 1 {
			targets[0], targets[1] = ossh, sh
		}
		for _, w := range ways {
			for _, t := range targets {
				if err := ctx.Err(); err != nil {
					return err
				}
				resetPeak(t)
				cmd := w.cmd(e, t, pick(w.up, src, dst), "big.bin")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				start := time.Now()
				err := runCtx(ctx, cmd)
				d := time.Since(start)
				closeFiles(cmd)
				if err != nil {
					return fmt.Errorf("%s to %s: %v: %s", w.name, t.name, err, stderr.String())
				}
				if !w.up {
					if st, err := os.Stat(dst); err != nil || st.Size() != c.size {
						return fmt.Errorf("%s from %s: short download", w.name, t.name)
					}
					os.Remove(dst)
				}
				mbs := float64(c.size) / d.Seconds() / 1e6
				rep.addThroughput(w.name, t.name, mbs)
				if t.name == "sshelf" {
					rep.addRSS(w.name, peakRSS(t.pid))
				}
				logf("round %d %-13s %-7s %7.1f MB/s", r+1, w.name, t.name, mbs)
			}
		}
	}
	return nil
}

// runCtx runs cmd, killing it if ctx ends first (SIGINT/SIGTERM).
func runCtx(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	defer stop()
	return cmd.Wait()
}

func pick(up bool, src, dst string) string {
	if up {
		return src
	}
	return dst
}

func closeFiles(cmd *exec.Cmd) {
	for _, x := range []any{cmd.Stdin, cmd.Stdout} {
		if f, ok := x.(*os.File); ok {
			f.Close()
		}
	}
}

func randomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(f, rand.Reader, size)
	return err
}

// sanityCheck moves a small file up and down each way and compares it, so
// the timed rounds move the right bytes.
func sanityCheck(e *env, ts []*target) error {
	src, dst := filepath.Join(e.dir, "check.bin"), filepath.Join(e.dir, "check.out")
	if err := randomFile(src, 1<<20+123); err != nil {
		return err
	}
	want, _ := os.ReadFile(src)
	for _, t := range ts {
		for _, w := range ways {
			cmd := w.cmd(e, t, pick(w.up, src, dst), "check.bin")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			closeFiles(cmd)
			if err != nil {
				return fmt.Errorf("check %s with %s: %v: %s", w.name, t.name, err, stderr.String())
			}
			if !w.up {
				got, _ := os.ReadFile(dst)
				if !bytes.Equal(got, want) {
					return fmt.Errorf("check %s with %s: content differs", w.name, t.name)
				}
			}
		}
	}
	return nil
}

// negotiated asks the OpenSSH client which cipher it picks with t.
func negotiated(e *env, t *target) string {
	out, _ := exec.Command("ssh", append(e.clientArgs("-p", t), "-v", t.user+"@127.0.0.1", t.getCmd("none"))...).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "kex: server->client cipher: "); i >= 0 {
			return strings.Fields(l[i+len("kex: server->client cipher: "):])[0]
		}
	}
	return "?"
}

// resetPeak clears the kernel's peak-RSS mark of t's server (root only;
// elsewhere the mark is the process's lifetime peak, an upper bound).
func resetPeak(t *target) {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", t.pid), []byte("5"), 0)
}

// peakRSS reads VmHWM of pid in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
