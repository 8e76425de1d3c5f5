package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	s3store "github.com/sshelf/sshelf/files/s3"
	"github.com/sshelf/sshelf/internal/pgtest"
	"github.com/sshelf/sshelf/internal/s3test"
	"github.com/sshelf/sshelf/internal/testkit"
)

// A cluster: two sshelf instances, each with its own data directory (its
// spool), on one PostgreSQL database and one S3 bucket, behind HAProxy.

type cluster struct {
	catalog string         // the postgres:// URL both instances share
	blobs   string         // the s3:// URL both instances share
	bucket  s3store.Config // the same bucket, for looking behind the store's back
	env     []string       // the S3 credentials, as a server or the CLI gets them
	a, b    *server
	lb      string // HAProxy's port, in front of a and b in turn (send-proxy-v2)
}

// startCluster starts two instances at once (migrations and the host key
// import race, as two servers started together do) and HAProxy in front
// of both. Both get flags; they share one known_hosts file, so a client
// that met one and then the other fails unless both present the same
// host keys.
func startCluster(t *testing.T, flags ...string) *cluster {
	t.Helper()
	c := &cluster{catalog: pgtest.Database(t), bucket: s3test.Bucket(t)}
	c.blobs = blobsURL(c.bucket.Bucket, c.bucket.Endpoint)
	c.env = []string{"AWS_ACCESS_KEY_ID=" + c.bucket.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.bucket.SecretAccessKey}
	serveFlags := append([]string{"--catalog", c.catalog, "--blobs", c.blobs, "--proxy-protocol-from", "127.0.0.1"}, flags...)
	ia, ib := newInstance(t, serveFlags...), newInstance(t, serveFlags...)
	ia.env, ib.env = c.env, c.env
	ib.knownHosts = ia.knownHosts
	c.a, c.b = ia.launch(t), ib.launch(t)
	c.a.await(t)
	c.b.await(t)
	if ida, idb := c.a.instanceID(), c.b.instanceID(); ida == "" || ida == idb {
		t.Fatalf("instance ids %q and %q: want two distinct ones on the listening lines", ida, idb)
	}
	if fa, fb := c.a.hostKeyFingerprints(), c.b.hostKeyFingerprints(); len(fa) == 0 || !slices.Equal(fa, fb) {
		t.Fatalf("host keys differ between the instances: %q and %q", fa, fb)
	}
	c.lb = startHAProxy(t, net.JoinHostPort(c.a.host, c.a.port), net.JoinHostPort(c.b.host, c.b.port))
	return c
}

func blobsURL(bucket, endpoint string) string {
	return "s3://" + bucket + "?endpoint=" + url.QueryEscape(endpoint) + "&region=" + s3store.DefaultRegion
}

// viaLB are the options of a connection through HAProxy from the
// client address from.
func (c *cluster) viaLB(user, pw, from string) sshOpts {
	return sshOpts{user: user, pw: pw, bind: from, port: c.lb}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantContent checks a download against the content uploaded, by SHA-256.
func wantContent(t *testing.T, got, want []byte, what string) {
	t.Helper()
	if g, w := testkit.SHA256Hex(got), testkit.SHA256Hex(want); g != w {
		t.Errorf("%s: got %d bytes with SHA-256 %s, want %d bytes with %s", what, len(got), g, len(want), w)
	}
}

// An upload through one instance is listed and downloadable through the
// other at once, by every way in: exec, sftp, scp, and through HAProxy,
// where the audit line of whichever instance served the put names the
// client, not the balancer.
func TestClusterFilesAcrossInstances(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	const pw = "alice-pw"

	// exec put on A; ls, info and get on B.
	execContent := randomBytes(t, 256<<10)
	put(t, c.a, "alice", pw, "exec.bin", execContent)
	if names := lsNames(t, c.b, "bob", "bob-pw"); !contains(names, "exec.bin") {
		t.Errorf("ls on B right after the put on A: %q lacks exec.bin", names)
	}
	if fi := info(t, c.b, "bob", "bob-pw", "exec.bin"); fi.Owner != "alice" || fi.Size != int64(len(execContent)) ||
		fi.SHA256 != testkit.SHA256Hex(execContent) {
		t.Errorf("info on B of the file put on A: %+v", fi)
	}
	wantContent(t, get(t, c.b, "bob", "bob-pw", "exec.bin"), execContent, "get on B of the file put on A")

	// sftp put on B; scp download on A, ls on A.
	sftpContent := randomBytes(t, 300<<10)
	dir := t.TempDir()
	writeLocal(t, dir, "local.bin", sftpContent, 0o600)
	if r := c.b.sftpBatch(t, sshOpts{user: "bob", pw: "bob-pw"}, dir, "put local.bin sftp.bin"); r.code != 0 {
		t.Fatalf("sftp put on B: %v", r)
	}
	if names := lsNames(t, c.a, "alice", pw); !contains(names, "sftp.bin") {
		t.Errorf("ls on A right after the sftp put on B: %q lacks sftp.bin", names)
	}
	down := t.TempDir()
	if r := c.a.scp(t, sshOpts{user: "alice", pw: pw}, down, c.a.remote("alice", "sftp.bin"), "got.bin"); r.code != 0 {
		t.Fatalf("scp download on A of the file put on B: %v", r)
	}
	wantContent(t, readLocal(t, filepath.Join(down, "got.bin")), sftpContent, "scp download on A of the sftp put on B")

	// Through HAProxy from 127.0.0.2: one put, then downloads that the
	// balancer hands to each instance in turn.
	lbContent := randomBytes(t, 128<<10)
	r := c.a.ssh(t, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2", port: c.lb, stdin: bytes.NewReader(lbContent)}, "put", "lb.bin")
	mustOK(t, r, "put through HAProxy from 127.0.0.2")
	for i := range 2 {
		r := c.a.ssh(t, c.viaLB("bob", "bob-pw", "127.0.0.2"), "get", "lb.bin")
		mustOK(t, r, fmt.Sprintf("get %d through HAProxy", i+1))
		wantContent(t, r.stdout, lbContent, fmt.Sprintf("get %d through HAProxy", i+1))
	}
	for _, srv := range []*server{c.a, c.b} {
		names := sftpLs(t, srv, "bob", "bob-pw")
		for _, want := range []string{"exec.bin", "lb.bin", "sftp.bin"} {
			if !contains(names, want) {
				t.Errorf("sftp ls on %s: %q lacks %s", srv.addr, names, want)
			}
		}
	}

	// The audit line of the put through HAProxy: on one instance, and it
	// has the client's address.
	var addrs []string
	found := pollUntil(10*time.Second, func() bool {
		addrs = nil
		for _, srv := range []*server{c.a, c.b} {
			for _, m := range srv.jsonLines() {
				if m["msg"] == "op" && m["command"] == "put" && m["name"] == "lb.bin" {
					addrs = append(addrs, fmt.Sprint(m["addr"]))
				}
			}
		}
		return len(addrs) > 0
	})
	if !found || len(addrs) != 1 || !strings.HasPrefix(addrs[0], "127.0.0.2:") {
		t.Errorf("audit lines of the put through HAProxy have addr %q, want one from 127.0.0.2 (the client, not HAProxy at 127.0.0.1)", addrs)
	}
}

// Rules 1-5 across instances: what one instance wrote, the other enforces.
func TestClusterRulesAcrossInstances(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	const alicePW, bobPW = "alice-pw", "bob-pw"

	// Owner only (rule 4, 5): bob on B can neither remove nor overwrite
	// alice's file put on A.
	mine := []byte("alice's own\n")
	put(t, c.a, "alice", alicePW, "mine.txt", mine)
	r := do(t, c.b, "bob", bobPW, nil, "rm", "mine.txt")
	expectErr(t, r, 1, "sshelf: rm: mine.txt: ", "bob rm on B of alice's file")
	r = do(t, c.b, "bob", bobPW, []byte("bob's"), "put", "mine.txt")
	expectErr(t, r, 1, "sshelf: put: mine.txt: ", "bob put on B onto alice's name")
	if !strings.HasSuffix(string(r.stderr), ": name taken by another user\n") {
		t.Errorf("bob put on B onto alice's name: %q", r.stderr)
	}
	if r := c.b.sftpBatch(t, sshOpts{user: "bob", pw: bobPW}, t.TempDir(), "rm mine.txt"); r.code == 0 {
		t.Errorf("bob sftp rm on B of alice's file: want a failure, got %v", r)
	}
	wantContent(t, get(t, c.a, "alice", alicePW, "mine.txt"), mine, "alice's file on A after bob's tries on B")

	// Hidden (rule 1, 2): put on A, never listed on B, downloadable by name.
	hidden := []byte("hidden body\n")
	put(t, c.a, "alice", alicePW, "hid.txt", hidden, "--hidden")
	for _, u := range []struct{ user, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		if names := lsNames(t, c.b, u.user, u.pw); contains(names, "hid.txt") {
			t.Errorf("ls on B as %s lists the hidden file: %q", u.user, names)
		}
		for _, fi := range lsJSON(t, c.b, u.user, u.pw) {
			if fi.Name == "hid.txt" {
				t.Errorf("ls --json on B as %s lists the hidden file", u.user)
			}
		}
		if names := sftpLs(t, c.b, u.user, u.pw); contains(names, "hid.txt") || !contains(names, "mine.txt") {
			t.Errorf("sftp ls on B as %s: %q, want mine.txt and not hid.txt", u.user, names)
		}
		wantContent(t, get(t, c.b, u.user, u.pw, "hid.txt"), hidden, "get by name on B of the hidden file as "+u.user)
	}

	// Protected (rule 3): put with a download password on A; on B,
	// refused without it, served with it.
	secret := []byte("protected body\n")
	put(t, c.a, "alice", alicePW, "prot.txt", secret, "--password", "s3cret")
	r = do(t, c.b, "bob", bobPW, nil, "get", "prot.txt")
	expectErr(t, r, 1, "sshelf: get: prot.txt: ", "get on B of the protected file without its password")
	if !strings.HasSuffix(string(r.stderr), ": download password required\n") {
		t.Errorf("get on B without the password: %q", r.stderr)
	}
	expectErr(t, do(t, c.b, "bob", bobPW, nil, "get", "prot.txt", "--password", "wrong"), 1, "sshelf: get: prot.txt: ",
		"get on B with a wrong password")
	wantContent(t, get(t, c.b, "bob", bobPW, "prot.txt", "--password", "s3cret"), secret, "get on B with the password")

	// Replace (rule 5): alice replaces on B what she put on A; A serves
	// the new version at once.
	v1, v2 := []byte("version one\n"), []byte("version two, longer\n")
	put(t, c.a, "alice", alicePW, "doc.txt", v1)
	put(t, c.b, "alice", alicePW, "doc.txt", v2)
	wantContent(t, get(t, c.a, "bob", bobPW, "doc.txt"), v2, "get on A after the replace on B")
	if fi := info(t, c.a, "bob", bobPW, "doc.txt"); fi.Size != int64(len(v2)) || fi.SHA256 != testkit.SHA256Hex(v2) {
		t.Errorf("info on A after the replace on B: %+v", fi)
	}
}

// Login throttles are the cluster's: 10 wrong passwords from 127.0.0.3,
// spread over both instances (the default --login-max-failures), lock that
// address out of both, while 127.0.0.2 still logs in everywhere.
func TestClusterLockoutAcrossInstances(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "--login-delay", "1ms")
	const pw = "alice-right-pw"
	// From 127.0.0.2 once: an address alice used, which the account's own
	// lockout (for new addresses) does not shut.
	wantLogin(t, loginAs(t, c.a, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2"}), "alice", "alice from 127.0.0.2")

	instances := []*server{c.a, c.b}
	for i := range 10 {
		srv := instances[i%2]
		r := loginAs(t, srv, sshOpts{user: "alice", pw: fmt.Sprint("guess-", i), bind: "127.0.0.3",
			methods: "password", extra: []string{"-o", "KbdInteractiveAuthentication=no"}})
		wantRefused(t, r, fmt.Sprintf("wrong password %d from 127.0.0.3 on %s", i+1, srv.addr))
		if strings.Contains(string(r.stderr), "too many") {
			t.Fatalf("wrong password %d already refused by the limit: %q", i+1, r.stderr)
		}
	}
	for _, srv := range instances {
		// A refused client can end before the server's log line of its
		// login is read: wait for the fifth.
		denied := 0
		pollUntil(10*time.Second, func() bool {
			denied = 0
			for _, m := range srv.jsonLines() {
				if m["msg"] == "login" && m["result"] != "ok" && strings.HasPrefix(fmt.Sprint(m["addr"]), "127.0.0.3:") {
					denied++
				}
			}
			return denied >= 5
		})
		if denied != 5 {
			t.Errorf("%s logged %d failed logins from 127.0.0.3, want 5 (half of them)", srv.addr, denied)
		}
	}

	locked := fmt.Sprintf(addrLockedText, "127.0.0.3")
	for _, srv := range instances {
		wantRefused(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.3"}),
			"the right password from 127.0.0.3 on "+srv.addr, locked)
		wantRefused(t, loginAs(t, srv, sshOpts{user: "bob", pw: "bob-pw", bind: "127.0.0.3"}),
			"another account from 127.0.0.3 on "+srv.addr, locked)
		wantLogin(t, loginAs(t, srv, sshOpts{user: "alice", pw: pw, bind: "127.0.0.2"}),
			"alice", "alice from 127.0.0.2 on "+srv.addr)
	}
	// Through HAProxy, two of each in a row: each instance in turn.
	for i := range 2 {
		wantRefused(t, loginAs(t, c.a, c.viaLB("alice", pw, "127.0.0.3")),
			fmt.Sprintf("the right password from 127.0.0.3 through HAProxy (%d)", i+1), locked)
	}
	for i := range 2 {
		wantLogin(t, loginAs(t, c.a, c.viaLB("alice", pw, "127.0.0.2")),
			"alice", fmt.Sprintf("alice from 127.0.0.2 through HAProxy (%d)", i+1))
	}
}

// pipedUpload is `ssh ... put NAME` whose stdin the test holds open: the
// upload is in flight until the test closes it or the server dies.
type pipedUpload struct {
	name    string
	w       *os.File
	written chan error // the writer's end: all bytes taken by ssh, or why not
	done    chan struct{}
	res     result
	cancel  context.CancelFunc
}

// startPipedPut starts a put of size random bytes to srv and writes them
// all into ssh's stdin, which it keeps open.
func startPipedPut(t *testing.T, srv *server, o sshOpts, name string, size int64) *pipedUpload {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*sshTimeout)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := srv.sshCommand(ctx, o, "put", name)
	cmd.Stdin = r
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("ssh put %s: %v", name, err)
	}
	r.Close() // ssh has it; a write fails once ssh is gone
	u := &pipedUpload{name: name, w: w, written: make(chan error, 1), done: make(chan struct{}), cancel: cancel}
	go func() {
		err := cmd.Wait()
		u.res = result{stdout: stdout.Bytes(), stderr: stderr.Bytes(), code: exitCode(err), timedOut: ctx.Err() != nil}
		close(u.done)
	}()
	go func() {
		_, err := io.CopyN(w, rand.Reader, size)
		u.written <- err
	}()
	t.Cleanup(u.end)
	return u
}

// end closes the upload's stdin and waits for ssh (bounded by its context).
func (u *pipedUpload) end() {
	u.w.Close()
	<-u.done
	u.cancel()
}

// multipartUploads lists the bucket's unfinished multipart uploads.
func (c *cluster) multipartUploads(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s3test.Client(c.bucket).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &c.bucket.Bucket})
	if err != nil {
		t.Fatalf("list multipart uploads of %s: %v", c.bucket.Bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// objects lists the bucket's objects.
func (c *cluster) objects(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s3test.Client(c.bucket).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &c.bucket.Bucket})
	if err != nil {
		t.Fatalf("list objects of %s: %v", c.bucket.Bucket, err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// ageHeartbeat moves instance's last heartbeat in the catalog back by d,
// as if d had passed since: the cheap way to let a killed instance count
// as gone, instead of waiting out files.InstanceTTL.
func (c *cluster) ageHeartbeat(t *testing.T, instance string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.catalog)
	if err != nil {
		t.Fatalf("connect to the catalog: %v", err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `UPDATE instances SET seen = seen - $2 WHERE id = $1`, instance, d.Nanoseconds())
	if err != nil {
		t.Fatalf("age the heartbeat of %s: %v", instance, err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("age the heartbeat of %s: %d rows, want 1", instance, tag.RowsAffected())
	}
}

// kill -9 of an instance in the middle of uploads (one streaming to the
// bucket as a multipart upload, one still in its spool): nothing of them
// becomes visible on the other instance; its clean-up leaves the dead
// instance's multipart upload alone while that instance may be alive and
// aborts it once it is gone; it deletes the garbage of a replace and
// nothing that a record names; `sshelf check` finds everything whole.
func TestClusterKillDuringUpload(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "--sweep-interval", "1s", "--unfinished-grace", "1s", "--orphan-grace", "1s", "--garbage-grace", "1s")
	const pw = "alice-pw"
	alice := sshOpts{user: "alice", pw: pw}

	// Committed before the kill: on both instances, one replaced (its old
	// content is garbage), one big enough to have gone up in parts.
	committed := map[string][]byte{
		"on-a.bin":     randomBytes(t, 200<<10),
		"on-b.bin":     randomBytes(t, 200<<10),
		"replaced.bin": randomBytes(t, 100<<10),
		"parts.bin":    randomBytes(t, 17<<20),
	}
	put(t, c.a, "alice", pw, "on-a.bin", committed["on-a.bin"])
	put(t, c.b, "alice", pw, "on-b.bin", committed["on-b.bin"])
	put(t, c.a, "alice", pw, "replaced.bin", randomBytes(t, 100<<10))
	put(t, c.b, "alice", pw, "replaced.bin", committed["replaced.bin"])
	put(t, c.a, "alice", pw, "parts.bin", committed["parts.bin"])
	if ups := c.multipartUploads(t); len(ups) != 0 {
		t.Fatalf("unfinished uploads with nothing in flight: %q", ups)
	}

	// In flight on A: 20 MiB, past the first 16 MiB part, so the bucket
	// holds a multipart upload of A's; and 1 MiB, only in A's spool.
	big := startPipedPut(t, c.a, alice, "inflight-big.bin", 20<<20)
	small := startPipedPut(t, c.a, alice, "inflight-small.bin", 1<<20)
	prefix := c.a.instanceID() + "/"
	var ups []string
	if !pollUntil(sshTimeout, func() bool {
		ups = c.multipartUploads(t)
		return len(ups) == 1 && strings.HasPrefix(ups[0], prefix)
	}) {
		t.Fatalf("no multipart upload of A's (%s) in the bucket within %v: %q", prefix, sshTimeout, ups)
	}
	for _, u := range []*pipedUpload{big, small} {
		select {
		case err := <-u.written:
			if err != nil {
				t.Fatalf("writing %s into ssh: %v", u.name, err)
			}
		case <-time.After(sshTimeout):
			t.Fatalf("ssh did not take the content of %s within %v", u.name, sshTimeout)
		}
	}
	// Both uploads are in A's spool (its last bytes may still sit in the
	// spool's gathering buffer, not in the file).
	spool := filepath.Join(c.a.dataDir(), "spool")
	if !pollUntil(sshTimeout, func() bool { return len(allFiles(t, spool)) == 2 && spoolBytes(t, spool) >= 16<<20 }) {
		t.Fatalf("A's spool holds %q, %d bytes: want both uploads", allFiles(t, spool), spoolBytes(t, spool))
	}
	// Both instances sweep every second with a 1 s grace: a live
	// instance's upload stays, however old.
	time.Sleep(3 * time.Second)
	if got := c.multipartUploads(t); !slices.Equal(got, ups) {
		t.Fatalf("the multipart upload of live A: %q, then %q (a sweep aborted it)", ups, got)
	}

	c.a.kill(t)
	for _, u := range []*pipedUpload{big, small} {
		u.end()
		if u.res.code == 0 {
			t.Errorf("ssh put %s to the killed instance: want a failure, got %v", u.name, u.res)
		}
	}
	names := lsNames(t, c.b, "alice", pw)
	for _, u := range []*pipedUpload{big, small} {
		if contains(names, u.name) {
			t.Errorf("ls on B lists %s, cut off by the kill of A: %q", u.name, names)
		}
		r := do(t, c.b, "alice", pw, nil, "get", u.name)
		expectErr(t, r, 1, "sshelf: get: "+u.name+": ", "get on B of "+u.name)
		if !strings.HasSuffix(string(r.stderr), ": no such file\n") {
			t.Errorf("get on B of %s: %q, want no such file", u.name, r.stderr)
		}
	}
	// A's last heartbeat is recent: for all B knows, A is alive.
	if got := c.multipartUploads(t); !slices.Equal(got, ups) {
		t.Fatalf("the multipart upload of A, killed a moment ago: %q, then %q (aborted before A counts as gone)", ups, got)
	}

	// A gone for longer than files.InstanceTTL: B aborts its upload.
	c.ageHeartbeat(t, c.a.instanceID(), 10*time.Minute)
	if !pollUntil(30*time.Second, func() bool { ups = c.multipartUploads(t); return len(ups) == 0 }) {
		t.Fatalf("the dead instance's multipart upload is still there after 30 s: %q", ups)
	}
	// The replaced content is collected, and nothing else: one object per
	// committed file.
	var objs []string
	if !pollUntil(30*time.Second, func() bool { objs = c.objects(t); return len(objs) == len(committed) }) {
		t.Errorf("bucket objects: %q, want %d (one per file, the replaced content collected)", objs, len(committed))
	}
	checkCommitted := func(srv *server, when string) {
		t.Helper()
		names := lsNames(t, srv, "alice", pw)
		for name, content := range committed {
			if !contains(names, name) {
				t.Errorf("%s: ls lacks %s: %q", when, name, names)
			}
			wantContent(t, get(t, srv, "alice", pw, name), content, when+": get "+name)
		}
	}
	checkCommitted(c.b, "on B after the kill of A")

	// A restarts as a new instance: it clears its own spool, and serves
	// every file.
	a2 := c.a.inst.start(t)
	if a2.instanceID() == c.a.instanceID() {
		t.Errorf("the restarted A kept its instance id %s", a2.instanceID())
	}
	if n := spoolBytes(t, spool); n != 0 {
		t.Errorf("A's spool after its restart holds %d bytes (%q)", n, allFiles(t, spool))
	}
	checkCommitted(a2, "on A after its restart")

	r := cli(t, c.env, nil, "check", "--catalog", c.catalog, "--blobs", c.blobs)
	if r.code != 0 || !strings.Contains(string(r.stdout), fmt.Sprintf("checked %d files", len(committed))) {
		t.Errorf("sshelf check: want exit 0 and %d files checked, got %v", len(committed), r)
	}
}

// spoolBytes is the size of the files in a spool folder.
func spoolBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, p := range allFiles(t, dir) {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// A server whose catalog or bucket cannot be had does not start: one error
// naming which, and why, exit status non-zero; no password in it.
func TestClusterStartErrors(t *testing.T) {
	t.Parallel()
	catalog := pgtest.Database(t)
	bucket := s3test.Bucket(t)
	env := []string{"AWS_ACCESS_KEY_ID=" + bucket.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + bucket.SecretAccessKey}
	const dbPW = "CatalogPw-7731"
	closed := fmt.Sprintf("postgres://sshelf:%s@127.0.0.1:%d/sshelf", dbPW, freePort(t))
	missing := "t-no-such-bucket-" + strings.ToLower(rand.Text()[:8])
	cases := []struct {
		what, catalog, blobs string
		want                 []string
	}{
		{"catalog on a closed port", closed, blobsURL(bucket.Bucket, bucket.Endpoint),
			[]string{"catalog", "127.0.0.1", "unreachable"}},
		{"a bucket that does not exist", catalog, blobsURL(missing, bucket.Endpoint),
			[]string{missing, "no such bucket"}},
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			r := cli(t, env, nil, "serve", "--listen", "127.0.0.1:0", "--data", data,
				"--catalog", tc.catalog, "--blobs", tc.blobs)
			if r.code == 0 || r.code == -1 {
				t.Fatalf("want a non-zero exit, got %v", r)
			}
			out := string(r.stderr)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr %q lacks %q", out, w)
				}
			}
			if strings.Contains(out, dbPW) || strings.Contains(out, bucket.SecretAccessKey) {
				t.Errorf("stderr shows a password: %q", out)
			}
			if strings.Contains(out, "listening") {
				t.Errorf("the server listened: %q", out)
			}
		})
	}
}
