package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/s3test"
)

// --max-sessions-per-user holds across the servers of a cluster: a session
// open on one server counts on the other.
func TestClusterSessionsPerUser(t *testing.T) {
	t.Parallel()
	catalog, bucket := pgtest.Database(t), s3test.Bucket(t)
	a := sharedInstance(t, catalog, bucket, "--max-sessions-per-user", "1").start(t)
	b := sharedInstance(t, catalog, bucket, "--max-sessions-per-user", "1").start(t)
	const pw = "carol-pw"
	login(t, a, "carol", pw)

	// A session on A that stays open while its stdin does, and has
	// answered a request: it holds its slot before B is asked. (A session
	// only started could still lose the one slot to B's first ls.)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := sshOpts{user: "carol", pw: pw, extra: []string{"-s"}}
	sub := startHeld(t, "subsystem on A", a.sshCommand(ctx, opts, "sshelf"))
	sub.send(t, "0 whoami\n")
	sub.waitOutput(t, "E 0 ok")

	var last result
	if !pollUntil(30*time.Second, func() bool {
		last = do(t, b, "carol", pw, nil, "ls")
		return last.code != 0
	}) {
		t.Fatalf("with carol's one session open on A, a session on B still ran: %v", last)
	}
	if !strings.Contains(string(last.stderr), "too many sessions for your account") {
		t.Errorf("refusal on B: %v, want it to name the per-account limit", last)
	}

	// A put in the held session, then its end.
	sub.send(t, "9 put held.txt\nheld open")
	sub.waitOutput(t, "E 0 sha256 ")
	sub.stdin.Close()
	select {
	case <-sub.done:
	case <-ctx.Done():
		t.Fatalf("the subsystem session on A did not end at the end of its input: %q", sub.out.String())
	}
	if !pollUntil(30*time.Second, func() bool {
		last = do(t, b, "carol", pw, nil, "ls")
		return last.code == 0
	}) {
		t.Fatalf("after the session on A ended, B still refuses: %v", last)
	}
	if !contains(lsNames(t, b, "carol", pw), "held.txt") {
		t.Errorf("the put of the session held open on A is not listed on B")
	}
}

// Rule 8 across a cluster: wrong download passwords spread over both
// servers add up, and the file is refused on both once they reach the
// limit, the right password included.
func TestClusterFilePasswordThrottle(t *testing.T) {
	t.Parallel()
	catalog, bucket := pgtest.Database(t), s3test.Bucket(t)
	flags := []string{"--file-password-max-failures", "4", "--file-password-delay", "1ms"}
	a := sharedInstance(t, catalog, bucket, flags...).start(t)
	b := sharedInstance(t, catalog, bucket, flags...).start(t)
	put(t, a, "alice", alicePW, "t.txt", []byte("guarded"), "--password", "right")
	login(t, a, "bob", bobPW)
	for i, srv := range []*server{a, b, a, b} {
		r := do(t, srv, "bob", bobPW, nil, "get", "t.txt", "--password", "wrong")
		expectErr(t, r, 1, "sshelf: get: t.txt: ", "wrong download password try")
		// The fourth failure is the one that locks the file, and says so.
		if i < 3 && strings.Contains(strings.ToLower(string(r.stderr)), "later") {
			t.Fatalf("try %d (of 4 allowed) already refused as throttled: %q", i+1, r.stderr)
		}
	}
	for name, srv := range map[string]*server{"A": a, "B": b} {
		r := do(t, srv, "bob", bobPW, nil, "get", "t.txt", "--password", "right")
		expectErr(t, r, 1, "sshelf: get: t.txt: ", "the right password on "+name+" after 4 wrong ones spread over both")
		if !strings.Contains(strings.ToLower(string(r.stderr)), "later") {
			t.Errorf("on %s the refusal should say to try again later: %q", name, r.stderr)
		}
	}
}
