package e2e

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// TestSessionLimits: sessions beyond --max-sessions-per-user are refused
// with a clear error while the others go on.
func TestSessionLimits(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--max-sessions-per-user", "2", "--max-sessions", "3")
	login(t, srv, "alice", "pw-alice")
	login(t, srv, "bob", "pw-bob")
	login(t, srv, "carol", "pw-carol")

	p1 := startPut(t, srv, "alice", "pw-alice", "one")
	p2 := startPut(t, srv, "alice", "pw-alice", "two")
	p1.stdin.Write([]byte("x"))
	p2.stdin.Write([]byte("y"))
	if !pollUntil(30*time.Second, func() bool { return tmpFiles(srv.dataDir()) == 2 }) {
		t.Fatal("the two held sessions never started")
	}
	r := do(t, srv, "alice", "pw-alice", nil, "whoami")
	expectErr(t, r, 1, "sshelf: too many sessions", "per-account limit")
	if s := string(r.stderr); s != "sshelf: too many sessions for your account, try again later\n" {
		t.Errorf("per-account refusal %q", s)
	}
	mustOK(t, do(t, srv, "bob", "pw-bob", nil, "whoami"), "another account within the total")

	p3 := startPut(t, srv, "bob", "pw-bob", "three")
	p3.stdin.Write([]byte("z"))
	if !pollUntil(30*time.Second, func() bool { return tmpFiles(srv.dataDir()) == 3 }) {
		t.Fatal("the third held session never started")
	}
	r = do(t, srv, "carol", "pw-carol", nil, "whoami")
	expectErr(t, r, 1, "sshelf: too many sessions", "total limit")
	if s := string(r.stderr); s != "sshelf: too many sessions, try again later\n" {
		t.Errorf("total refusal %q", s)
	}

	for _, p := range []*pendingPut{p1, p2, p3} {
		p.stdin.Close()
		if err := <-p.done; err != nil {
			t.Errorf("held upload %s: %v", p.name, err)
		}
	}
	mustOK(t, do(t, srv, "alice", "pw-alice", nil, "whoami"), "after the sessions ended")
}

// TestIdleTimeout: an upload that keeps sending outlives the idle timeout;
// one that stalls is cut and leaves nothing.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	// 4 s, not less: a loaded CI machine can stall a client for a second or
	// more, and the test is about progress, not about promptness.
	srv := startServer(t, "--idle-timeout", "4s")
	login(t, srv, "alice", "pw-alice")

	slow := startPut(t, srv, "alice", "pw-alice", "slow")
	chunk := testkit.RandBytes(t, 4096)
	var sent []byte
	for i := 0; i < 20; i++ { // 2.5 idle timeouts of steady progress
		if _, err := slow.stdin.Write(chunk); err != nil {
			t.Fatalf("slow upload cut while making progress: %v", err)
		}
		sent = append(sent, chunk...)
		time.Sleep(500 * time.Millisecond)
	}
	slow.stdin.Close()
	if err := <-slow.done; err != nil {
		t.Fatalf("slow upload failed: %v (%s)", err, slow.out.String())
	}
	if got := get(t, srv, "alice", "pw-alice", "slow"); string(got) != string(sent) {
		t.Error("slow upload not stored whole")
	}

	stalled := startPut(t, srv, "alice", "pw-alice", "stalled")
	stalled.stdin.Write(chunk)
	select {
	case err := <-stalled.done:
		if err == nil {
			t.Error("a stalled upload succeeded")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a stalled connection was never cut")
	}
	if r := do(t, srv, "alice", "pw-alice", nil, "info", "stalled"); r.code != 1 {
		t.Errorf("stalled upload visible: %v", r)
	}
	if !pollUntil(10*time.Second, func() bool { return tmpFiles(srv.dataDir()) == 0 }) {
		t.Error("stalled upload left a temp file")
	}
}

// TestAuthDeadline: a connection that never finishes its handshake is
// closed by the server.
func TestAuthDeadline(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--auth-timeout", "1s")
	conn, err := net.Dial("tcp", net.JoinHostPort(srv.host, srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	// The server speaks first (its version line); then, hearing nothing, it
	// must hang up.
	data, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a silent connection open")
	}
	if !strings.HasPrefix(string(data), "SSH-2.0-") {
		t.Errorf("unexpected greeting %q", data)
	}
}

// TestSessionsPerAddress: throwaway accounts from one address cannot take
// more than --max-sessions-per-address sessions; the refusal says why, and
// another address still gets in.
func TestSessionsPerAddress(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--max-sessions-per-address", "2")
	for _, u := range []string{"throw1", "throw2", "throw3"} {
		login(t, srv, u, "pw-"+u)
	}
	// One after the other: each is in (its upload exists) before the next.
	var held []*pendingPut
	for i, u := range []string{"throw1", "throw2"} {
		held = append(held, holdPut(t, srv, u, "pw-"+u, "held-"+u, "127.0.0.2"))
		if !pollUntil(time.Minute, func() bool { return tmpFiles(srv.dataDir()) == i+1 }) {
			t.Fatalf("session %d from 127.0.0.2 never started", i+1)
		}
	}

	r := srv.ssh(t, sshOpts{user: "throw3", pw: "pw-throw3", bind: "127.0.0.2"}, "whoami")
	expectErr(t, r, 1, "sshelf: too many sessions", "third session from 127.0.0.2")
	if s := string(r.stderr); s != "sshelf: too many sessions from your address, try again later\n" {
		t.Errorf("refusal %q", s)
	}
	r = srv.ssh(t, sshOpts{user: "throw3", pw: "pw-throw3", bind: "127.0.0.3"}, "whoami")
	if r.code != 0 || string(r.stdout) != "throw3\n" {
		t.Errorf("session from another address: %v", r)
	}

	for _, p := range held {
		p.stdin.Close()
		if err := <-p.done; err != nil {
			t.Errorf("held upload %s: %v (%s)", p.name, err, p.out.String())
		}
	}
	r = srv.ssh(t, sshOpts{user: "throw3", pw: "pw-throw3", bind: "127.0.0.2"}, "whoami")
	if r.code != 0 {
		t.Errorf("from 127.0.0.2 after its sessions ended: %v", r)
	}
}
