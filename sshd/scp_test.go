package sshd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/testkit"
)

// The legacy scp protocol, spoken by hand, for what OpenSSH's scp never
// does on purpose: uploads that end early or unconfirmed.

type scpPeer struct {
	sess *gossh.Session
	in   io.WriteCloser
	out  *bufio.Reader
}

func startSCP(t *testing.T, srv *apptest.Server, command string) *scpPeer {
	t.Helper()
	conn := srv.Dial(t, "alice", "pw-a")
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Start(command); err != nil {
		t.Fatal(err)
	}
	return &scpPeer{sess: sess, in: in, out: bufio.NewReader(out)}
}

// status reads one status: 0, or the code and message of an error.
func (p *scpPeer) status(t *testing.T) (byte, string) {
	t.Helper()
	c, err := p.out.ReadByte()
	if err != nil {
		t.Fatalf("read status: %v", err)
	}
	if c == 0 {
		return 0, ""
	}
	line, _ := p.out.ReadString('\n')
	return c, line
}

func (p *scpPeer) exit(t *testing.T) int {
	t.Helper()
	err := p.sess.Wait()
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}

func notStored(t *testing.T, srv *apptest.Server, name string) {
	t.Helper()
	if _, err := srv.App.Files.Info(context.Background(), "alice", name); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("%s was stored: %v", name, err)
	}
	testkit.WaitTmpEmpty(t, srv.Data)
}

func TestSCPSinkCommitsAfterTheFinalStatus(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	p := startSCP(t, srv, "scp -t .")
	if c, msg := p.status(t); c != 0 {
		t.Fatalf("ready: %d %s", c, msg)
	}
	fmt.Fprintf(p.in, "T1700000000 0 1700000000 0\n")
	if c, msg := p.status(t); c != 0 {
		t.Fatalf("times: %d %s", c, msg)
	}
	fmt.Fprintf(p.in, "C0600 5 hello\n")
	if c, msg := p.status(t); c != 0 {
		t.Fatalf("record: %d %s", c, msg)
	}
	io.WriteString(p.in, "hello")
	// Every byte is in, but the client has not said it read its file
	// whole: nothing is visible yet.
	if _, err := srv.App.Files.Info(context.Background(), "alice", "hello"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("visible before the final status: %v", err)
	}
	p.in.Write([]byte{0})
	if c, msg := p.status(t); c != 0 {
		t.Fatalf("commit: %d %s", c, msg)
	}
	p.in.Close()
	if code := p.exit(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	f, err := srv.App.Files.Info(context.Background(), "alice", "hello")
	if err != nil || f.SHA256 != testkit.SHA256Hex([]byte("hello")) || f.Hidden {
		t.Errorf("stored %+v, %v", f, err)
	}
}

func TestSCPSinkShortContentCommitsNothing(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	p := startSCP(t, srv, "scp -t short")
	p.status(t)
	fmt.Fprintf(p.in, "C0644 100 local-name\n")
	if c, msg := p.status(t); c != 0 {
		t.Fatalf("record: %d %s", c, msg)
	}
	io.WriteString(p.in, "only forty bytes of a hundred, then EOF.")
	p.in.Close()
	if code := p.exit(t); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	notStored(t, srv, "short")
}

func TestSCPSinkClientErrorAfterContentCommitsNothing(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	p := startSCP(t, srv, "scp -t .")
	p.status(t)
	fmt.Fprintf(p.in, "C0644 4 failed\n")
	p.status(t)
	// The client could not read its file whole: it pads and says so.
	io.WriteString(p.in, "\x00\x00\x00\x00\x01scp: failed: read error\n")
	if c, _ := p.status(t); c != 1 {
		t.Errorf("want an error status after the client's error, got %d", c)
	}
	p.in.Close()
	if code := p.exit(t); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	notStored(t, srv, "failed")
}

func TestSCPRefusesBadCommandsAndNames(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	for _, cmd := range []string{"scp -x -t .", "scp -t", "scp -t -f x", "scp -r -t .", "scp -t a/b"} {
		p := startSCP(t, srv, cmd)
		if c, msg := p.status(t); c != 2 || msg == "" {
			t.Errorf("%q: want a fatal status with a message, got %d %q", cmd, c, msg)
		}
		p.in.Close()
		if code := p.exit(t); code != 1 {
			t.Errorf("%q: exit %d, want 1", cmd, code)
		}
	}
	p := startSCP(t, srv, "scp -t .")
	p.status(t)
	fmt.Fprintf(p.in, "C0644 1 ..\n")
	if c, msg := p.status(t); c != 1 || msg == "" {
		t.Errorf("bad name: want an error with a message, got %d %q", c, msg)
	}
	p.in.Close()
	p.exit(t)
}
