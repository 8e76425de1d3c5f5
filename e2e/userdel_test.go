package e2e

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// held is a client process whose input the test keeps open, so that its
// session lasts until the server ends it.
type held struct {
	what  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   syncBuf
	done  chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startHeld(t *testing.T, what string, cmd *exec.Cmd) *held {
	t.Helper()
	h := &held{what: what, cmd: cmd, done: make(chan struct{})}
	var err error
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = &h.out, &h.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		h.stdin.Close()
		cmd.Process.Kill()
		<-h.done
	})
	return h
}

func (h *held) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(h.stdin, s); err != nil {
		t.Fatalf("%s: write: %v", h.what, err)
	}
}

// waitOutput polls until the client printed want.
func (h *held) waitOutput(t *testing.T, want string) {
	t.Helper()
	if !pollUntil(sshTimeout, func() bool { return strings.Contains(h.out.String(), want) }) {
		t.Fatalf("%s: no %q in its output within %v: %q", h.what, want, sshTimeout, h.out.String())
	}
}

func (h *held) ended() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// `sshelf user del` while the user has sessions open (SFTP, the sshelf
// subsystem, an exec upload in flight): the sessions end, the files are
// gone, the upload in flight is not stored, and the name, free again,
// signs up as a new account that reaches nothing of the old one.
func TestUserDelDuringSessions(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	in := srv.inst
	const bobPW = "bob-pw-1"
	login(t, srv, "carol", "carol-pw")
	put(t, srv, "bob", bobPW, "bob-public.txt", []byte("public"))
	put(t, srv, "bob", bobPW, "bob-hidden.txt", []byte("hidden"), "--hidden")
	keyFile, pub := newKey(t)
	in.mustUserCLI(t, []byte(pub), "key", "add", "bob")

	ctx, cancel := context.WithTimeout(context.Background(), 2*sshTimeout)
	defer cancel()
	o := sshOpts{user: "bob", pw: bobPW}

	args, env := srv.clientArgs(o)
	sftpCmd := exec.CommandContext(ctx, "sftp", append(args, "bob@"+srv.host)...)
	sftpCmd.Env = env
	sftp := startHeld(t, "sftp", sftpCmd)
	sftp.send(t, "pwd\n")
	sftp.waitOutput(t, "Remote working directory")

	subOpts := o
	subOpts.extra = []string{"-s"}
	sub := startHeld(t, "subsystem", srv.sshCommand(ctx, subOpts, "sshelf"))
	sub.send(t, "0 whoami\n")
	sub.waitOutput(t, "E 0 ok")

	upload := startHeld(t, "exec put", srv.sshCommand(ctx, o, "put", "in-flight.bin"))
	upload.send(t, strings.Repeat("x", 256<<10))
	if !pollUntil(sshTimeout, func() bool { return tmpFiles(in.dataDir) > 0 }) {
		t.Fatalf("the upload in flight never reached the server")
	}

	r := in.mustUserCLI(t, nil, "del", "bob")
	if got := string(r.stdout); got != "deleted bob and 2 files\n" {
		t.Errorf("user del: stdout %q", got)
	}
	// The server ends the sessions at its next check (every second). The
	// sftp program outlives its connection, saying so.
	clients := []*held{sftp, sub, upload}
	allEnded := func() bool {
		for _, h := range clients {
			if !h.ended() && !(h == sftp && strings.Contains(h.out.String(), "Connection closed")) {
				return false
			}
		}
		return true
	}
	if !pollUntil(30*time.Second, allEnded) {
		for _, h := range clients {
			if !h.ended() {
				t.Errorf("%s of the deleted user still open after user del; its output: %q", h.what, h.out.String())
			}
		}
	}
	if strings.Contains(upload.out.String(), "in-flight.bin\n") {
		t.Errorf("the upload in flight reported success: %q", upload.out.String())
	}

	for _, name := range []string{"bob-public.txt", "bob-hidden.txt", "in-flight.bin"} {
		expectErr(t, do(t, srv, "carol", "carol-pw", nil, "info", name), 1, "sshelf: info: "+name+": ", "info of a deleted user's file")
	}
	waitContentFiles(t, in.dataDir, nil, 15*time.Second)

	// The old key and the old password are gone with the account.
	if r := srv.ssh(t, sshOpts{user: "bob", key: keyFile}, "whoami"); r.code != 255 {
		t.Errorf("the deleted account's key still logs in: %v", r)
	}
	// Open signup hands the name to whoever comes next: a fresh account.
	const newPW = "new-bob-pw"
	login(t, srv, "bob", newPW)
	if r := tryLogin(t, srv, "bob", bobPW); r.code != 255 {
		t.Errorf("the old password logs in to the new bob: %v", r)
	}
	for _, name := range []string{"bob-public.txt", "bob-hidden.txt", "in-flight.bin"} {
		expectErr(t, do(t, srv, "bob", newPW, nil, "get", name), 1, "sshelf: get: "+name+": ", "the new bob reaching an old file")
	}
	if names := lsNames(t, srv, "bob", newPW); len(names) != 0 {
		t.Errorf("ls after user del: %q, want nothing", names)
	}
	put(t, srv, "bob", newPW, "bob-public.txt", []byte("the new bob's"))
	if r := in.userCLI(t, nil, "del", "nosuchuser"); r.code != 1 {
		t.Errorf("user del of an unknown user: %v", r)
	}
}
