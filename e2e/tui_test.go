package e2e

// The terminal UI end to end: the real `ssh -t` inside a detached tmux,
// keys sent with send-keys, the screen read with capture-pane.

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const tuiWait = 20 * time.Second // bound of every wait for the screen or a command

// tuiEnv is the environment without what would steer ssh or tmux
// elsewhere (an agent, an enclosing tmux, sshelf settings).
func tuiEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "SSH_AUTH_SOCK" || k == "TMUX" || k == "TMUX_PANE" || strings.HasPrefix(k, "SSHELF_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tuiServer starts `sshelf serve` on a loopback port and returns its port.
func tuiServer(t *testing.T, data string) string {
	t.Helper()
	cmd := exec.Command(sshelfBin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--log-format", "json")
	cmd.Env = tuiEnv()
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				select {
				case addr <- line.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		return a[strings.LastIndex(a, ":")+1:]
	case <-time.After(tuiWait):
		t.Fatal("server did not log msg=listening")
	}
	return ""
}

// tuiRun runs a command with a bound, failing the test on error.
func tuiRun(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = tuiEnv()
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = time.Second
	timer := time.AfterFunc(tuiWait, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// tuiUser makes a key pair and registers it for name; it returns the key.
func tuiUser(t *testing.T, dir, data, name string) string {
	t.Helper()
	key := filepath.Join(dir, name)
	tuiRun(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	tuiRun(t, string(pub), sshelfBin, "user", "key", "add", name, "--data", data)
	return key
}

func tuiSSHArgs(key, port string) []string {
	return []string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-i", key, "-p", port}
}

// tmuxPane is one detached tmux server with one 80x24 pane.
type tmuxPane struct {
	t    *testing.T
	sock string
}

func newTmuxPane(t *testing.T, dir, command string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	p := &tmuxPane{t: t, sock: filepath.Join(dir, "tmux.sock")}
	p.tmux("new-session", "-d", "-x", "80", "-y", "24", command)
	t.Cleanup(func() { exec.Command("tmux", "-S", p.sock, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", p.sock}, args...)...)
	cmd.Env = append(tuiEnv(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// keys sends keys as tmux names them ("Enter", "Escape") or literally.
func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	for _, k := range keys {
		p.tmux("send-keys", "-t", "0", k)
	}
}

func (p *tmuxPane) screen() string { return p.tmux("capture-pane", "-p", "-t", "0") }

// waitFor polls the screen until it contains want, within tuiWait.
func (p *tmuxPane) waitFor(want string) string {
	p.t.Helper()
	deadline := time.Now().Add(tuiWait)
	for {
		s := p.screen()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTUIOverSSHInTmux(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// `sshelf user` refuses a data directory that does not exist.
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	alice := tuiUser(t, dir, data, "alice")
	bob := tuiUser(t, dir, data, "bob")
	port := tuiServer(t, data)

	put := func(key, user, name, content string, flags ...string) {
		args := append(tuiSSHArgs(key, port), user+"@127.0.0.1", "put", name)
		tuiRun(t, content, "ssh", append(args, flags...)...)
	}
	put(alice, "alice", "mine.txt", "alice's file\n")
	put(alice, "alice", "secret.txt", "hidden\n", "--hidden")
	put(bob, "bob", "bobs.txt", "bob's file\n")

	ssh := "ssh -t " + strings.Join(tuiSSHArgs(alice, port), " ") + " alice@127.0.0.1"
	pane := newTmuxPane(t, dir, ssh+"; echo TUI-EXIT=$?; sleep 60")

	s := pane.waitFor("mine.txt")
	if !strings.Contains(s, "bobs.txt") || strings.Contains(s, "secret.txt") {
		t.Fatalf("list should show the public files and no hidden one:\n%s", s)
	}

	// bobs.txt sorts first and is selected: deleting it is refused.
	pane.keys("d")
	pane.waitFor(`Delete "bobs.txt"? (y/n)`)
	pane.keys("y")
	pane.waitFor("permission denied: not the owner")

	// One down is alice's own file: deleting it works.
	pane.keys("j", "d")
	pane.waitFor(`Delete "mine.txt"? (y/n)`)
	pane.keys("y")
	s = pane.waitFor(`deleted "mine.txt"`)
	if !strings.Contains(s, "bobs.txt") {
		t.Errorf("bobs.txt gone from the list:\n%s", s)
	}

	ls := tuiRun(t, "", "ssh", append(tuiSSHArgs(bob, port), "bob@127.0.0.1", "ls")...)
	if strings.Contains(ls, "mine.txt") || !strings.Contains(ls, "bobs.txt") {
		t.Errorf("ls after the TUI's deletes: %q", ls)
	}

	pane.keys("q")
	pane.waitFor("TUI-EXIT=0")
}
