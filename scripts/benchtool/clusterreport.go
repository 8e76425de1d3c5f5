package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// rssTarget is issue 12's bound on a cluster instance's RSS during a
// 1 GiB upload (and issue 6's for any 1 GiB transfer).
const rssTarget = 64 << 20

// clusterReport gathers the cluster run's samples and renders the table.
type clusterReport struct {
	cfg      config
	machine  string
	server   place
	client   place
	stores   *sharedStores
	elapsed  time.Duration
	loadAvg  [2]string                       // the machine's load averages at the start and the end
	order    []string                        // ways in first-seen order
	mbs      map[string]map[string][]float64 // way -> embedded|cluster -> MB/s
	rss      map[string]map[string]int64     // way -> embedded|cluster -> largest peak RSS
	load     []clusterLoadRow
	warnings []serverWarnings
}

type clusterLoadRow struct {
	n     int
	side  string // embedded or cluster
	round int
	st    loadStats
	rss   []serverRSS
}

type serverRSS struct {
	name string
	rss  int64
}

type serverWarnings struct {
	name  string
	n     int
	first string
}

func (r *clusterReport) addTransfer(way, kind string, mbs float64, rss int64) {
	if r.mbs == nil {
		r.mbs, r.rss = map[string]map[string][]float64{}, map[string]map[string]int64{}
	}
	if r.mbs[way] == nil {
		r.mbs[way], r.rss[way] = map[string][]float64{}, map[string]int64{}
		r.order = append(r.order, way)
	}
	r.mbs[way][kind] = append(r.mbs[way][kind], mbs)
	r.rss[way][kind] = max(r.rss[way][kind], rss)
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "?"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *clusterReport) markdown() string {
	var b strings.Builder
	c := r.cfg
	mode := "full"
	if c.quick {
		mode = "quick"
	}
	if c.large {
		mode = "large"
	}
	fmt.Fprintf(&b, "## sshelf cluster (PostgreSQL + S3) vs embedded (SQLite + disk) (%s run, %s)\n\n", mode, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s. Load average (1, 5, 15 min) at the start %s, at the end %s.\n\n", r.machine, r.loadAvg[0], r.loadAvg[1])
	fmt.Fprintf(&b, "Embedded: `sshelf serve --data DIR` (SQLite catalog, contents in DIR). Cluster: `sshelf serve --catalog postgres://... "+
		"--blobs s3://...` on PostgreSQL %s, started by scripts/postgres (a throw-away server with fsync off, like a test server), "+
		"and %s, started by scripts/s3-gateway (an S3 gateway onto a local folder), both on loopback and on the same 2 cores. "+
		"Every server's files, PostgreSQL's and the gateway's: %s, under %s. Client's files: %s, under %s.\n\n",
		r.stores.postgres, r.stores.gateway, r.server.mount, r.server.dir, r.client.mount, r.client.dir)
	if len(r.order) > 0 {
		fmt.Fprintf(&b, "Transfers of a %s file through one cluster instance and through the embedded server, %s interleaved, "+
			"median (min–max) in MB/s (10^6 B/s), whole OpenSSH client command timed, `sync` (untimed) before each. "+
			"Peak RSS: VmHWM of the server process, reset before each transfer, the largest of the rounds.\n\n",
			human(c.size), plural(c.rounds, "round"))
		b.WriteString("| transfer | embedded MB/s | cluster MB/s | cluster/embedded | embedded peak RSS | cluster peak RSS | RSS target |\n" +
			"|---|---|---|---|---|---|---|\n")
		for _, w := range r.order {
			em, cl := r.mbs[w]["embedded"], r.mbs[w]["cluster"]
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s | < 64 MiB |\n", w, spread(em, ""), spread(cl, ""),
				median(cl)/median(em), mib(r.rss[w]["embedded"]), mib(r.rss[w]["cluster"]))
		}
		b.WriteString("\n" + r.uploadVerdict() + "\n\n")
	}
	if len(r.load) > 0 {
		fmt.Fprintf(&b, "Concurrent sessions: N clients start at once; each %d times logs in (public key), puts a %d KiB file, "+
			"gets it back in a second session and compares. Embedded: all N on the one server; cluster: half on each of two "+
			"instances (client i on instance i mod 2), connected directly. Caps per client address lifted on every server "+
			"(all clients are 127.0.0.1), %d clients per account. Wall: from the start to the last client's end. "+
			"Peak RSS: VmHWM of each server in the round.\n\n", c.loadIters, loadFileSize>>10, usersPerAccount)
		b.WriteString("| N | servers | round | wall | ops/s | p50 ms | p99 ms | errors | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, l := range r.load {
			var rss []string
			for _, s := range l.rss {
				rss = append(rss, s.name+" "+mib(s.rss))
			}
			servers := "embedded ×1"
			if l.side == "cluster" {
				servers = fmt.Sprintf("cluster ×%d", len(l.rss))
			}
			fmt.Fprintf(&b, "| %d | %s | %d | %.1f s | %.0f | %.0f | %.0f | %d/%d | %s |\n", l.n, servers, l.round,
				l.st.wall.Seconds(), l.st.opsPerSec, float64(pct(l.st.lat, 50))/1e6, float64(pct(l.st.lat, 99))/1e6,
				l.st.errors, l.st.ops, strings.Join(rss, ", "))
		}
		for _, l := range r.load {
			if l.st.firstErr != "" {
				fmt.Fprintf(&b, "\nFirst error (%s, N=%d, round %d): `%s`\n", l.side, l.n, l.round, l.st.firstErr)
			}
		}
		b.WriteString("\n")
	}
	var warn []string
	for _, w := range r.warnings {
		warn = append(warn, fmt.Sprintf("%s %d", w.name, w.n))
	}
	fmt.Fprintf(&b, "Warnings and errors in the servers' logs: %s.\n", strings.Join(warn, ", "))
	for _, w := range r.warnings {
		if w.n > 0 {
			fmt.Fprintf(&b, "\nFirst of %s's: `%s`\n", w.name, w.first)
		}
	}
	fmt.Fprintf(&b, "\nRun took %v.\n", r.elapsed.Round(time.Second))
	return b.String()
}

// uploadVerdict says whether the cluster instance stayed under the RSS
// target during the uploads.
func (r *clusterReport) uploadVerdict() string {
	var parts []string
	over := false
	for _, w := range r.order {
		if strings.Contains(w, "upload") || strings.Contains(w, "put") {
			v := r.rss[w]["cluster"]
			parts = append(parts, fmt.Sprintf("%s %s", w, mib(v)))
			over = over || v >= rssTarget
		}
	}
	verdict := "met"
	if over {
		verdict = "NOT met"
	}
	scope := ""
	if r.cfg.size != 1<<30 {
		scope = fmt.Sprintf(" (the target is for 1 GiB; this run moved %s)", human(r.cfg.size))
	}
	return fmt.Sprintf("Cluster instance's peak RSS during the uploads: %s; target < 64 MiB: %s%s.",
		strings.Join(parts, ", "), verdict, scope)
}
