package e2e

import (
	"context"
	"io"
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

	// A session on A that stays open while its stdin does.
	stdin, hold := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := a.sshCommand(ctx, sshOpts{user: "carol", pw: pw}, "put", "held.txt")
	cmd.Stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	hold.Write([]byte("held open"))

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

	hold.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the held put on A: %v", err)
	}
	if !pollUntil(30*time.Second, func() bool {
		last = do(t, b, "carol", pw, nil, "ls")
		return last.code == 0
	}) {
		t.Fatalf("after the session on A ended, B still refuses: %v", last)
	}
	if !contains(lsNames(t, b, "carol", pw), "held.txt") {
		t.Errorf("the put held open on A is not listed on B")
	}
}
