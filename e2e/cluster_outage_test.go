package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/s3test"
)

// sharedInstance is a server on the catalog at catalog and the bucket of
// cfg, with the bucket's credentials in its environment.
func sharedInstance(t *testing.T, catalog string, cfg s3store.Config, flags ...string) *instance {
	t.Helper()
	blobs := fmt.Sprintf("s3://%s?endpoint=%s&region=%s", cfg.Bucket, cfg.Endpoint, cfg.Region)
	in := newInstance(t, append([]string{"--catalog", catalog, "--blobs", blobs}, flags...)...)
	in.env = append(in.env, "AWS_ACCESS_KEY_ID="+cfg.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+cfg.SecretAccessKey)
	return in
}

// When the catalog goes away while the server runs, logins and operations
// fail with an answer that says so, nothing half-done becomes visible, and
// service resumes by itself once the catalog is back.
func TestClusterCatalogOutage(t *testing.T) {
	t.Parallel()
	pg := pgtest.Private(t)
	srv := sharedInstance(t, pg.NewDatabase(t), s3test.Bucket(t)).start(t)
	const pw = "alice-pw"
	put(t, srv, "alice", pw, "before.txt", []byte("stored before"))

	pg.Stop()
	r := srv.ssh(t, sshOpts{user: "alice", pw: pw, banners: true, stdin: strings.NewReader("lost")}, "put", "during.txt")
	if r.code == 0 {
		t.Fatalf("put with the catalog down succeeded: %v", r)
	}
	if !strings.Contains(string(r.stderr), "cannot reach its catalog") {
		t.Errorf("with the catalog down, the client should be told so; got %v", r)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	putWhenBack(t, srv, "alice", pw, "catalog")
	names := lsNames(t, srv, "alice", pw)
	if !contains(names, "before.txt") || !contains(names, "after.txt") || contains(names, "during.txt") {
		t.Errorf("ls after the outage = %q, want before.txt and after.txt, not during.txt", names)
	}
	if got := string(get(t, srv, "alice", pw, "before.txt")); got != "stored before" {
		t.Errorf("before.txt = %q", got)
	}
}

// When the bucket goes away, an upload fails with an error that names the
// store, leaves nothing visible, and works again once the bucket is back.
func TestClusterBucketOutage(t *testing.T) {
	t.Parallel()
	gw := s3test.Start(t)
	srv := sharedInstance(t, pgtest.Database(t), gw.Bucket(t)).start(t)
	const pw = "bob-pw"
	put(t, srv, "bob", pw, "before.txt", []byte("stored before"))

	gw.Stop(t)
	r := do(t, srv, "bob", pw, []byte("lost"), "put", "during.txt")
	if r.code == 0 {
		t.Fatalf("put with the bucket down succeeded: %v", r)
	}
	if !strings.Contains(string(r.stderr), "storage unavailable, try again later") {
		t.Errorf("with the bucket down, the client should be told to try again later; got %v", r)
	}
	if names := lsNames(t, srv, "bob", pw); contains(names, "during.txt") {
		t.Errorf("a failed upload is listed: %q", names)
	}
	if r := do(t, srv, "bob", pw, nil, "get", "before.txt"); r.code == 0 {
		t.Errorf("get with the bucket down succeeded: %v", r)
	}

	gw.Restart(t)
	putWhenBack(t, srv, "bob", pw, "bucket")
	if got := string(get(t, srv, "bob", pw, "before.txt")); got != "stored before" {
		t.Errorf("before.txt after the outage = %q", got)
	}
}

// putWhenBack waits (bounded) until a put of after.txt works again, once
// the store that went away is back.
func putWhenBack(t *testing.T, srv *server, user, pw, store string) {
	t.Helper()
	var last result
	if !pollUntil(30*time.Second, func() bool {
		last = do(t, srv, user, pw, []byte("stored after"), "put", "after.txt")
		return last.code == 0
	}) {
		t.Fatalf("put after the %s came back: %v", store, last)
	}
}
