package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// The cluster run (issue 12): sshelf on a PostgreSQL catalog and an S3
// bucket against the embedded default (SQLite and contents on the disk),
// in the same run. First the transfers through one cluster instance and
// the embedded server, interleaved; then many concurrent sessions spread
// over two cluster instances, beside the same load on the one embedded
// server.

// cluster is the run's servers.
type cluster struct {
	stores   *sharedStores
	embedded *target   // SQLite + disk
	nodes    []*target // instances on the shared stores; the transfers use nodes[0]
	accounts []string  // the load's accounts, on both kinds
}

func runCluster(ctx context.Context, c config) error {
	start, startLoad := time.Now(), loadAverage()
	e, err := newEnv(ctx, c)
	if err != nil {
		return err
	}
	defer e.cleanup()
	logf("== servers' files, PostgreSQL's and the S3 gateway's in %v; client's files in %v", e.server, e.clientAt)
	cl, err := startCluster(ctx, e, c)
	if err != nil {
		return err
	}
	rep := &clusterReport{cfg: c, machine: describeMachine(), server: e.server, client: e.clientAt, stores: cl.stores}
	rep.loadAvg[0] = startLoad
	if c.only == "" || c.only == "transfer" {
		logf("== transfers: %s, %s, embedded vs cluster", human(c.size), plural(c.rounds, "round"))
		if err := clusterTransfers(ctx, e, c, cl, rep); err != nil {
			return err
		}
	}
	if c.only == "" || c.only == "load" {
		for _, n := range c.sessions {
			logf("== %d concurrent sessions: embedded (1 server) vs cluster (%d instances)", n, len(cl.nodes))
			if err := clusterLoad(ctx, e, c, cl, n, rep); err != nil {
				return err
			}
		}
	}
	for _, t := range append([]*target{cl.embedded}, cl.nodes...) {
		rep.warnings = append(rep.warnings, serverWarnings{t.name, t.log.count(), t.log.first()})
	}
	rep.elapsed, rep.loadAvg[1] = time.Since(start), loadAverage()
	return writeTable(c.out, rep.markdown())
}

// startCluster starts the shared stores, the embedded server and two
// instances on the stores, every one with the load's caps lifted and the
// same accounts.
func startCluster(ctx context.Context, e *env, c config) (*cluster, error) {
	st, err := startShared(ctx, e)
	if err != nil {
		return nil, err
	}
	logf("PostgreSQL %s, %s, bucket %s", st.postgres, st.gateway, benchBucket)
	most := 0
	for _, n := range c.sessions {
		most = max(most, n)
	}
	cl := &cluster{stores: st}
	for i := range (most + usersPerAccount - 1) / usersPerAccount {
		cl.accounts = append(cl.accounts, fmt.Sprintf("load%d", i))
	}
	users := append([]string{"bench"}, cl.accounts...)
	if cl.embedded, err = e.startSshelfWith(ctx, sshelfRun{name: "embedded", data: filepath.Join(e.dir, "embedded"),
		users: users, args: loadLimits}); err != nil {
		return nil, err
	}
	// The first instance brings the cluster's Ed25519 host key into the
	// empty catalog (imported from its data directory); the second finds
	// it there. Both data directories hold the public half for the
	// clients' known_hosts.
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	for i, name := range []string{"cluster A", "cluster B"} {
		data := filepath.Join(e.dir, fmt.Sprintf("cluster-%c", 'a'+i))
		if err := writeHostKey(filepath.Join(data, "hostkeys"), hk); err != nil {
			return nil, err
		}
		r := sshelfRun{name: name, data: data, login: "bench", args: loadLimits, env: st.env()}
		if i == 0 {
			r.users = users // the accounts are in the shared catalog: once
		}
		t, err := e.startSshelfWith(ctx, r)
		if err != nil {
			return nil, err
		}
		cl.nodes = append(cl.nodes, t)
	}
	return cl, nil
}

// writeHostKey writes key as dir's Ed25519 host key, as sshelf keeps one.
func writeHostKey(dir string, key ed25519.PrivateKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := writeKey(path, key); err != nil {
		return err
	}
	pub, err := gossh.NewPublicKey(key.Public())
	if err != nil {
		return err
	}
	return os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(pub), 0o644)
}

// clusterTransfers moves a file of c.size up and down each way (exec and
// sftp by default) through the embedded server and the first cluster
// instance, alternating which goes first, and records MB/s and both
// servers' peak RSS.
func clusterTransfers(ctx context.Context, e *env, c config, cl *cluster, rep *clusterReport) error {
	node := cl.nodes[0]
	src := filepath.Join(e.client, "src.bin")
	if err := randomFile(src, c.size); err != nil {
		return err
	}
	dst := filepath.Join(e.client, "dst.bin")
	if err := sanityCheck(e, c, []*target{cl.embedded, node}); err != nil {
		return err
	}
	if err := crossCheck(e, cl); err != nil {
		return err
	}
	for r := 0; r < c.rounds; r++ {
		targets := []*target{cl.embedded, node}
		if r%2 == 1 {
			targets[0], targets[1] = node, cl.embedded
		}
		for _, w := range ways {
			for _, t := range targets {
				if !w.runs(c, t) {
					continue
				}
				mbs, err := transfer(ctx, e, c, w, t, src, dst)
				if err != nil {
					return err
				}
				kind := "embedded"
				if t != cl.embedded {
					kind = "cluster"
				}
				rss := peakRSS(t.pid)
				rep.addTransfer(w.name, kind, mbs, rss)
				logf("round %d %-13s %-9s %7.1f MB/s, peak RSS %.1f MiB", r+1, w.name, t.name, mbs, float64(rss)/(1<<20))
			}
		}
	}
	return nil
}

// crossCheck reads the sanity check's file, put through the first
// instance, back through every other: the instances share one store.
func crossCheck(e *env, cl *cluster) error {
	want, err := os.ReadFile(filepath.Join(e.client, "check.bin"))
	if err != nil {
		return err
	}
	for _, t := range cl.nodes[1:] {
		cmd := exec.Command("ssh", append(e.clientArgs("-p", t), t.user+"@127.0.0.1", t.getCmd("check.bin"))...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		got, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("check get through %s of what %s stored: %v: %s", t.name, cl.nodes[0].name, err, stderr.String())
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("check get through %s of what %s stored: content differs", t.name, cl.nodes[0].name)
		}
	}
	return nil
}

// clusterLoad runs n concurrent workers (see loadOnce) twice against the
// embedded server alone and twice spread over the cluster's instances
// (worker i on instance i mod the count), alternating which goes first,
// and records each round with the peak RSS of every server in it.
func clusterLoad(ctx context.Context, e *env, c config, cl *cluster, n int, rep *clusterReport) error {
	userOf := func(i int) string { return cl.accounts[i/usersPerAccount] }
	sides := []struct {
		name     string
		servers  []*target
		targetOf func(int) *target
	}{
		{"embedded", []*target{cl.embedded}, func(int) *target { return cl.embedded }},
		{"cluster", cl.nodes, func(i int) *target { return cl.nodes[i%len(cl.nodes)] }},
	}
	for r := 0; r < 2; r++ {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := sides[k]
			for _, t := range s.servers {
				resetPeak(t)
			}
			st := loadOnce(ctx, e, s.targetOf, n, c.loadIters, userOf)
			row := clusterLoadRow{n: n, side: s.name, round: r + 1, st: st}
			for _, t := range s.servers {
				row.rss = append(row.rss, serverRSS{t.name, peakRSS(t.pid)})
			}
			rep.load = append(rep.load, row)
			logf("round %d %-8s %4d sessions: %v, %6.1f ops/s p50 %v p99 %v errors %d/%d %s", r+1, s.name, n,
				st.wall.Round(time.Millisecond), st.opsPerSec, pct(st.lat, 50), pct(st.lat, 99), st.errors, st.ops, st.firstErr)
		}
	}
	return nil
}

// checkClusterSpace refuses a run whose transfers would fill a file
// system. The embedded server keeps a file's old copy until the new one
// commits (2x the size); the cluster instance spools an upload (1x) while
// the gateway holds its parts and then the object (2x at the end), and
// every replaced object stays in the bucket for the garbage grace (1h by
// default, longer than the run): one per upload per round.
func checkClusterSpace(server, client place, size int64, rounds int) error {
	const spare = 1 << 30
	uploads := int64(rounds*2 + 1) // exec and sftp, and the sanity check's
	need := (2+3+uploads)*size + spare
	if client.mount.point == server.mount.point {
		need += 2 * size
	}
	free, err := freeBytes(server.dir)
	if err != nil {
		return fmt.Errorf("free space of %s: %w", server.dir, err)
	}
	if free < need {
		return fmt.Errorf("not enough free space for %s cluster transfers: %v has %s free, the run needs %s there "+
			"(embedded 2x the size; the cluster's spool and the gateway's parts 3x; each upload's object, kept for the garbage grace). "+
			"Set %s to a directory with room, or pass a smaller --size or fewer --rounds",
			human(size), server, gib(free), gib(need), benchDirEnv)
	}
	if client.mount.point != server.mount.point {
		if free, err := freeBytes(client.dir); err == nil && free < 2*size {
			return fmt.Errorf("not enough free space for the client's files under %v: %s free, %s needed", client, gib(free), gib(2*size))
		}
	}
	return nil
}
