package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers to run the OpenSSH sftp and scp clients against a server, with
// the same options and login as the harness's ssh.

// clientArgs returns the options sshCommand gives ssh, in the form sftp and
// scp take them (-P for the port), and the environment to run them in.
func (s *server) clientArgs(o sshOpts) (args, env []string) {
	o.noCmd = true
	cmd := s.sshCommand(context.Background(), o)
	a := cmd.Args[1 : len(cmd.Args)-1] // without "ssh" and the destination
	for i := 0; i < len(a); i++ {
		if a[i] == "-p" && i+1 < len(a) {
			args = append(args, "-P", a[i+1])
			i++
			continue
		}
		args = append(args, a[i])
	}
	return args, cmd.Env
}

// remote is user@host:path, as scp names a remote file.
func (s *server) remote(user, path string) string {
	return user + "@" + s.host + ":" + path
}

// runClient runs an OpenSSH client program in dir, bounded by a timeout.
func runClient(t *testing.T, dir string, env []string, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	timeout = orDefault(timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	r := runBounded(ctx, cmd, nil)
	if r.timedOut {
		t.Errorf("%s %q timed out after %v", name, args, timeout)
	}
	return r
}

// sftpCommand builds `sftp -b BATCH` as o.user, run in dir: the batch file
// holds lines, one sftp command each (a leading '-' lets a command fail
// without ending the batch).
func (s *server) sftpCommand(t *testing.T, ctx context.Context, o sshOpts, dir string, lines ...string) *exec.Cmd {
	t.Helper()
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args, env := s.clientArgs(o)
	// -b makes sftp add BatchMode=yes, which would turn off password
	// login; ssh takes the first value given, and args says BatchMode=no.
	args = append(args, "-b", batch, o.user+"@"+s.host)
	cmd := exec.CommandContext(ctx, "sftp", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// sftpBatch runs an sftp batch to completion.
func (s *server) sftpBatch(t *testing.T, o sshOpts, dir string, lines ...string) result {
	t.Helper()
	timeout := orDefault(o.timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := runBounded(ctx, s.sftpCommand(t, ctx, o, dir, lines...), nil)
	if r.timedOut {
		t.Errorf("sftp batch %q timed out after %v", lines, timeout)
	}
	return r
}

// scp runs scp as o.user in dir; remote paths are written with s.remote.
func (s *server) scp(t *testing.T, o sshOpts, dir string, args ...string) result {
	t.Helper()
	a, env := s.clientArgs(o)
	return runClient(t, dir, env, o.timeout, "scp", append(a, args...)...)
}

// sftpLs returns the names `ls -1` prints for the root.
func sftpLs(t *testing.T, srv *server, user, pw string) []string {
	t.Helper()
	r := srv.sftpBatch(t, sshOpts{user: user, pw: pw}, t.TempDir(), "ls -1")
	if r.code != 0 {
		t.Fatalf("sftp ls -1 as %s: %v", user, r)
	}
	var names []string
	for _, l := range scanLines(r.stdout) {
		if l == "" || strings.HasPrefix(l, "sftp>") {
			continue
		}
		names = append(names, strings.TrimSpace(l))
	}
	return names
}

// writeLocal writes a local file for a client to upload.
func writeLocal(t *testing.T, dir, name string, content []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func readLocal(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return b
}

// scpCommand builds (but does not start) scp as o.user in dir.
func (s *server) scpCommand(ctx context.Context, o sshOpts, dir string, args ...string) *exec.Cmd {
	a, env := s.clientArgs(o)
	cmd := exec.CommandContext(ctx, "scp", append(a, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// writeRandomFile writes size random bytes to p without holding them.
func writeRandomFile(t *testing.T, p string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// serverPeakRSSKB is the server process's peak resident set in kB
// (Linux's VmHWM), or -1 if unknown.
func serverPeakRSSKB(s *server) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb
		}
	}
	return -1
}

func serverPeakRSS(s *server) string {
	kb := serverPeakRSSKB(s)
	if kb < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}
