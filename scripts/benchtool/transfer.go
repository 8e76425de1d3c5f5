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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A way is one transfer method, up or down, as the OpenSSH client does it.
type way struct {
	name string // "exec upload", ...
	kind string // exec, sftp or scp, for --ways
	up   bool
	// only, when set, is the one server the way runs against; its row
	// compares with sshelf's samples of the way named sshelfFrom.
	only, sshelfFrom string
	// cmd builds the client command moving src to t (up) or t's file to dst.
	cmd func(e *env, t *target, local, remote string) *exec.Cmd
}

var ways = []way{
	{name: "exec upload", kind: "exec", up: true, cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		return execUpload(e, t, local, t.putCmd(remote))
	}},
	// What durability costs OpenSSH: `cat > f` answers once the bytes are
	// in the page cache; sshelf fsyncs before it answers. Coreutils' sync
	// with a file argument fsyncs that file.
	{name: "exec upload, OpenSSH + sync", kind: "exec", up: true, only: "OpenSSH", sshelfFrom: "exec upload",
		cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
			return execUpload(e, t, local, t.putCmd(remote)+" && sync "+t.remote(remote))
		}},
	{name: "exec download", kind: "exec", cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		c := exec.Command("ssh", append(e.clientArgs("-p", t), t.user+"@127.0.0.1", t.getCmd(remote))...)
		c.Stdout = mustCreate(local)
		return c
	}},
	{name: "sftp put", kind: "sftp", up: true, cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		return sftpBatch(e, t, fmt.Sprintf("put %s %s\n", local, t.remote(remote)))
	}},
	{name: "sftp get", kind: "sftp", cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		return sftpBatch(e, t, fmt.Sprintf("get %s %s\n", t.remote(remote), local))
	}},
	{name: "scp upload", kind: "scp", up: true, cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		return exec.Command("scp", append(e.clientArgs("-P", t), local, t.user+"@127.0.0.1:"+t.remote(remote))...)
	}},
	{name: "scp download", kind: "scp", cmd: func(e *env, t *target, local, remote string) *exec.Cmd {
		return exec.Command("scp", append(e.clientArgs("-P", t), t.user+"@127.0.0.1:"+t.remote(remote), local)...)
	}},
}

func wayNamed(name string) *way {
	for i := range ways {
		if ways[i].name == name {
			return &ways[i]
		}
	}
	return nil
}

// wayNames lists the ways sshelf takes part in, for --profile's help.
func wayNames() string {
	var n []string
	for _, w := range ways {
		if w.only == "" {
			n = append(n, strconv.Quote(w.name))
		}
	}
	return strings.Join(n, ", ")
}

// runs says whether the run measures w against t.
func (w way) runs(c config, t *target) bool {
	if w.only != "" && w.only != t.name {
		return false
	}
	return len(c.ways) == 0 || slices.Contains(c.ways, w.kind)
}

func execUpload(e *env, t *target, local, command string) *exec.Cmd {
	c := exec.Command("ssh", append(e.clientArgs("-p", t), t.user+"@127.0.0.1", command)...)
	c.Stdin = mustOpen(local)
	return c
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
	src := filepath.Join(e.client, "src.bin")
	if err := randomFile(src, c.size); err != nil {
		return err
	}
	dst := filepath.Join(e.client, "dst.bin")
	if err := sanityCheck(e, c, []*target{sh, ossh}); err != nil {
		return err
	}
	for r := 0; r < c.rounds; r++ {
		targets := []*target{sh, ossh}
		if r%2 == 1 {
			targets[0], targets[1] = ossh, sh
		}
		for _, w := range ways {
			for _, t := range targets {
				if !w.runs(c, t) {
					continue
				}
				mbs, err := transfer(ctx, e, c, w, t, src, dst)
				if err != nil {
					return err
				}
				rep.addThroughput(w, t.name, mbs)
				if t.name == "sshelf" {
					rep.addRSS(w.name, peakRSS(t.pid))
				}
				logf("round %d %-27s %-7s %7.1f MB/s", r+1, w.name, t.name, mbs)
			}
		}
	}
	if c.profile != "" {
		return profileTransfer(ctx, e, c, *wayNamed(c.profile), sh, src, dst)
	}
	return nil
}

// transfer times one client command moving src up to t, or t's copy down
// to dst, in MB/s, and checks a download's size.
func transfer(ctx context.Context, e *env, c config, w way, t *target, src, dst string) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Nothing dirty from the previous transfer (or from the source file
	// just written) is left for this one to flush: each transfer pays for
	// its own writes only. Untimed.
	syscall.Sync()
	resetPeak(t)
	cmd := w.cmd(e, t, pick(w.up, src, dst), "big.bin")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := runCtx(ctx, cmd)
	d := time.Since(start)
	closeFiles(cmd)
	if err != nil {
		return 0, fmt.Errorf("%s to %s: %v: %s", w.name, t.name, err, stderr.String())
	}
	if !w.up {
		st, err := os.Stat(dst)
		os.Remove(dst)
		if err != nil || st.Size() != c.size {
			return 0, fmt.Errorf("%s from %s: short download", w.name, t.name)
		}
	}
	return float64(c.size) / d.Seconds() / 1e6, nil
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
func sanityCheck(e *env, c config, ts []*target) error {
	src, dst := filepath.Join(e.client, "check.bin"), filepath.Join(e.client, "check.out")
	if err := randomFile(src, 1<<20+123); err != nil {
		return err
	}
	want, _ := os.ReadFile(src)
	for _, t := range ts {
		for _, w := range ways {
			if !w.runs(c, t) {
				continue
			}
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
