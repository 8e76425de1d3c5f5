package sshd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/testkit"
)

// TestSubsystemThroughOpenSSH drives `ssh -s ... sshelf` with a scripted
// session of several requests, and checks every response.
func TestSubsystemThroughOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client:", err)
	}
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Accounts.AddKey(ctx, "alice", string(gossh.MarshalAuthorizedKey(sshPub))); err != nil {
		t.Fatalf("add key: %v", err)
	}

	text := []byte("hello\nworld\n")
	binary := []byte("\x00\xffE 0 ok\nD 3\n\r\n") // bytes that look like framing
	var script bytes.Buffer
	type step struct {
		line, content string
		want          response
	}
	steps := []step{
		{"whoami", "", response{"alice\n", 0, "ok"}},
		{"put a.txt", string(text), response{testkit.SHA256Hex(text) + "  a.txt\n", 0, "sha256 " + testkit.SHA256Hex(text)}},
		{"put 'my file.bin' --hidden", string(binary), response{testkit.SHA256Hex(binary) + "  my file.bin\n", 0, "sha256 " + testkit.SHA256Hex(binary)}},
		{"ls", "", response{"a.txt\n", 0, "ok"}},
		{"get a.txt", "", response{string(text), 0, "sha256 " + testkit.SHA256Hex(text)}},
		{"get 'my file.bin'", "", response{string(binary), 0, "sha256 " + testkit.SHA256Hex(binary)}},
		{"sum 'my file.bin'", "", response{testkit.SHA256Hex(binary) + "  my file.bin\n", 0, "sha256 " + testkit.SHA256Hex(binary)}},
		{"frobnicate", "", response{"", 2, "sshelf: frobnicate: unknown command; try help"}},
		{"put ../x", "abc", response{"", 1, "sshelf: put: ../x: invalid name: must not contain \"/\""}},
		{"get nope", "", response{"", 1, "sshelf: get: nope: no such file"}},
		{"rm a.txt", "", response{"", 0, "ok"}},
		{"ls", "", response{"", 0, "ok"}},
	}
	for _, s := range steps {
		fmt.Fprintf(&script, "%d %s\n%s", len(s.content), s.line, s.content)
	}
	script.WriteString("0 info 'my file.bin'\n")

	host, port, _ := net.SplitHostPort(srv.Addr)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "ssh", "-s", "-p", port, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR", "-i", keyFile, "-o", "IdentitiesOnly=yes", "alice@"+host, "sshelf")
	cmd.Stdin = &script
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh -s sshelf: %v\n%s", err, stderr.String())
	}
	r := bufio.NewReader(bytes.NewReader(out))
	for _, s := range steps {
		got, err := readResponse(r)
		if err != nil {
			t.Fatalf("%s: %v", s.line, err)
		}
		if got != s.want {
			if s.want.status != 0 && got.status == s.want.status && strings.HasPrefix(got.message, "sshelf: put: ../x: invalid name") {
				continue // the exact wording of a bad name is files' business
			}
			t.Errorf("%s:\n got %v\nwant %v", s.line, got, s.want)
		}
	}
	info, err := readResponse(r)
	if err != nil || info.status != 0 || info.message != "ok" ||
		!strings.Contains(info.data, "visibility: hidden") || !strings.Contains(info.data, "sha256: "+testkit.SHA256Hex(binary)) {
		t.Errorf("info: %v, %v", info, err)
	}
	if rest, _ := r.ReadString(0); rest != "" {
		t.Errorf("bytes after the last response: %q", rest)
	}
}

// TestSubsystemBadInput sends what a broken or hostile client might: each
// gets its defined response, nothing is stored, no goroutine is left.
func TestSubsystemBadInput(t *testing.T) {
	srv := apptest.Start(t, nil)
	// Warm up, so that the baseline counts the server's own goroutines.
	warm := srv.Dial(t, "alice", "alice-pw")
	if r := openRaw(t, warm).request("whoami", ""); r.status != 0 {
		t.Fatalf("whoami: %v", r)
	}
	warm.Close()
	before := testkit.Settled()

	t.Run("garbage", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		io.WriteString(s.in, "\x00\xffgarbage\nmore garbage\n")
		r, err := readResponse(s.out)
		if err != nil || r.status != 2 || !strings.Contains(r.message, "content length") {
			t.Errorf("garbage: %v, %v", r, err)
		}
		if code := s.exitStatus(); code != 2 {
			t.Errorf("exit status %d, want 2", code)
		}
	})
	t.Run("oversized header line", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		// The server may close before all of it is sent: no check.
		io.WriteString(s.in, "0 info "+strings.Repeat("a", 70<<10)+"\n")
		r, err := readResponse(s.out)
		if err != nil || r.status != 2 || r.message != "sshelf: request line longer than 65536 bytes" {
			t.Errorf("oversized line: %v, %v", r, err)
		}
		if code := s.exitStatus(); code != 2 {
			t.Errorf("exit status %d, want 2", code)
		}
	})
	t.Run("bad content length", func(t *testing.T) {
		for _, header := range []string{"-5 put x\n", "99999999999999999999 put x\n", "1e3 put x\n", " ls\n"} {
			s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
			io.WriteString(s.in, header)
			if r, err := readResponse(s.out); err != nil || r.status != 2 {
				t.Errorf("%q: %v, %v", header, r, err)
			}
			if code := s.exitStatus(); code != 2 {
				t.Errorf("%q: exit status %d, want 2", header, code)
			}
		}
	})
	t.Run("unknown command and misuse keep the session", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		for _, tc := range []struct{ line, content, want string }{
			{"frobnicate x", "", "sshelf: frobnicate: unknown command; try help"},
			{"", "", "sshelf: no command"},
			{"ls 'unterminated", "", "sshelf: cannot split the command line"},
			{"ls", "abc", "sshelf: ls: takes no content: content-length must be 0"},
			{"get", "", "sshelf: get: missing file name; usage: get NAME [--password PW]"},
		} {
			r := s.request(tc.line, tc.content)
			if r.status != 2 || !strings.HasPrefix(r.message, tc.want) {
				t.Errorf("%q: %v; want status 2, %q", tc.line, r, tc.want)
			}
		}
	})
	t.Run("control bytes never break the end line", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		r := s.request("'l\rs\x7f'", "")
		if r.status != 2 || r.message != `sshelf: l\rs\x7f: unknown command; try help` {
			t.Errorf("got %v", r)
		}
		if r := s.request("whoami", ""); r.data != "alice\n" {
			t.Errorf("whoami after: %v", r)
		}
	})
	t.Run("refused put consumes its content", func(t *testing.T) {
		alice := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		if r := alice.request("put owned.txt", "alice's"); r.status != 0 {
			t.Fatalf("put: %v", r)
		}
		bob := openRaw(t, srv.Dial(t, "bob", "bob-pw"))
		content := "0 rm owned.txt\n" // looks like a request: must be taken as content
		r := bob.request("put owned.txt", content)
		if r.status != 1 || r.message != "sshelf: put: owned.txt: name taken by another user" {
			t.Errorf("put onto another's name: %v", r)
		}
		if r := bob.request("get owned.txt", ""); r.status != 0 || r.data != "alice's" {
			t.Errorf("get after refused put: %v", r)
		}
		if code := bob.exitStatus(); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	})
	t.Run("put cut short, input closed", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		s.send("100 put cut.bin\n" + strings.Repeat("x", 40))
		s.in.Close()
		r, err := readResponse(s.out)
		if err != nil || r.status != 1 || r.message != "sshelf: put: cut.bin: upload incomplete; nothing stored" {
			t.Errorf("cut-short put: %v, %v", r, err)
		}
		if code := s.exitStatus(); code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		check := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		if r := check.request("info cut.bin", ""); r.status != 1 || !strings.HasSuffix(r.message, "no such file") {
			t.Errorf("info after cut-short put: %v", r)
		}
		testkit.WaitTmpEmpty(t, srv.Data)
	})
	t.Run("put declaring more than sent, then disconnect", func(t *testing.T) {
		conn := srv.Dial(t, "alice", "alice-pw")
		s := openRaw(t, conn)
		if r := s.request("put gone.bin", "v1"); r.status != 0 {
			t.Fatalf("put v1: %v", r)
		}
		s.send("1000000 put gone.bin\n" + strings.Repeat("y", 300<<10))
		conn.Close()
		check := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		// The server notices the disconnect in its own time: wait for the
		// upload to be gone, then the old version must be there whole.
		testkit.WaitTmpEmpty(t, srv.Data)
		if r := check.request("get gone.bin", ""); r.status != 0 || r.data != "v1" {
			t.Errorf("get after dropped put: %v", r)
		}
	})
	t.Run("protected get without password", func(t *testing.T) {
		alice := openRaw(t, srv.Dial(t, "alice", "alice-pw"))
		if r := alice.request("put locked.txt --password s3cret", "secret data"); r.status != 0 {
			t.Fatalf("put: %v", r)
		}
		r := alice.request("get locked.txt", "")
		if r.status != 1 || r.data != "" || r.message != "sshelf: get: locked.txt: download password required" {
			t.Errorf("owner's get without password: %v", r)
		}
		bob := openRaw(t, srv.Dial(t, "bob", "bob-pw"), "SSHELF_FILE_PASSWORD=s3cret")
		if r := bob.request("get locked.txt", ""); r.status != 0 || r.data != "secret data" {
			t.Errorf("get with SSHELF_FILE_PASSWORD: %v", r)
		}
		if r := bob.request("get locked.txt --password nope", ""); r.status != 1 || !strings.HasSuffix(r.message, "wrong download password") {
			t.Errorf("--password wins over the environment: %v", r)
		}
	})
	t.Run("passwd cut short changes nothing", func(t *testing.T) {
		s := openRaw(t, srv.Dial(t, "carol", "carol-pw"))
		s.send("30 passwd\ncarol-pw\nnew")
		s.in.Close()
		if r, err := readResponse(s.out); err != nil || r.status != 1 {
			t.Errorf("cut-short passwd: %v, %v", r, err)
		}
		srv.Dial(t, "carol", "carol-pw") // the old password still works
	})

	testkit.NoLeakedGoroutines(t, before, 0)
}
