package sshd_test

import (
	"errors"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
)

// TestChannelsPerConnection: session channels that never ask for a command
// escape the session limits, so one connection may hold at most 10 open at
// once (OpenSSH's MaxSessions); a closed one frees its place.
func TestChannelsPerConnection(t *testing.T) {
	srv := apptest.Start(t, nil)
	conn := srv.Dial(t, "alice", "pw")
	var open []gossh.Channel
	for i := 0; i < 10; i++ {
		ch, reqs, err := conn.OpenChannel("session", nil)
		if err != nil {
			t.Fatalf("channel %d: %v", i+1, err)
		}
		go gossh.DiscardRequests(reqs)
		open = append(open, ch)
	}
	_, _, err := conn.OpenChannel("session", nil)
	var oce *gossh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != gossh.ResourceShortage {
		t.Fatalf("11th channel: got %v, want a resource-shortage refusal", err)
	}
	// A closed channel's place comes back once the server has seen the
	// close (asynchronous: a bounded poll), and the connection still
	// serves commands.
	open[0].Close()
	var sess *gossh.Session
	for i := 0; ; i++ {
		if sess, err = conn.NewSession(); err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("no session after a channel was closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := sess.Output("whoami"); err != nil || string(out) != "alice\n" {
		t.Fatalf("whoami: %q, %v", out, err)
	}
}
