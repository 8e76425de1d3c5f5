package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// report gathers the samples of a run and renders them as a table.
type report struct {
	cfg     config
	machine string
	server  place     // where both servers' files were
	client  place     // where the source and the downloads were
	ciphers [2]string // negotiated by the OpenSSH client: sshelf, OpenSSH
	elapsed time.Duration

	order []string                        // transfer ways in first-seen order
	from  map[string]string               // way -> the way whose sshelf samples it compares with
	mbs   map[string]map[string][]float64 // way -> server -> MB/s
	rss   map[string]int64                // way -> sshelf's peak RSS
	load  []loadRow
	cat   map[string]map[int][]time.Duration // measure -> entries -> samples
	catOr []string
}

type loadRow struct {
	n      int
	server string
	st     loadStats
}

func (r *report) addThroughput(w way, server string, v float64) {
	if r.mbs == nil {
		r.mbs, r.rss, r.from = map[string]map[string][]float64{}, map[string]int64{}, map[string]string{}
	}
	if r.mbs[w.name] == nil {
		r.mbs[w.name] = map[string][]float64{}
		r.order = append(r.order, w.name)
		r.from[w.name] = w.sshelfFrom
	}
	r.mbs[w.name][server] = append(r.mbs[w.name][server], v)
}

func (r *report) addRSS(w string, b int64) { r.rss[w] = max(r.rss[w], b) }

func (r *report) addLoad(n int, server string, st loadStats) {
	r.load = append(r.load, loadRow{n, server, st})
}

func (r *report) addCatalog(m string, n int, d time.Duration) {
	if r.cat == nil {
		r.cat = map[string]map[int][]time.Duration{}
	}
	if r.cat[m] == nil {
		r.cat[m] = map[int][]time.Duration{}
		r.catOr = append(r.catOr, m)
	}
	r.cat[m][n] = append(r.cat[m][n], d)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread renders a median with the range of the samples around it.
func spread(v []float64, unit string) string {
	if len(v) == 0 {
		return "–"
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("%s%s (%s–%s)", num(median(v)), unit, num(lo), num(hi))
}

func num(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

func ms(d []time.Duration) []float64 {
	out := make([]float64, len(d))
	for i, x := range d {
		out[i] = float64(x) / 1e6
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func human(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	default:
		return fmt.Sprintf("%d bytes", b)
	}
}

// ratioTarget is the ratio issue 14 asks of a way: on the disk, uploads at
// least 0.95 (scp 0.9) and downloads at least 1.0; on tmpfs, all 1.0.
func ratioTarget(w string, tmpfs bool) string {
	switch {
	case strings.Contains(w, "+ sync"):
		return "–"
	case tmpfs:
		return "≥ 1.0"
	case w == "scp upload":
		return "≥ 0.9"
	case w == "exec upload" || w == "sftp put":
		return "≥ 0.95"
	}
	return "≥ 1.0"
}

func (r *report) markdown() string {
	var b strings.Builder
	c := r.cfg
	mode := "full"
	switch {
	case c.large:
		mode = "large"
	case c.quick:
		mode = "quick"
	}
	on := "disk"
	if c.tmpfs {
		on = "tmpfs"
	}
	fmt.Fprintf(&b, "## sshelf vs OpenSSH sshd (%s run, %s, %s)\n\n", mode, on, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s\n\n", r.machine)
	fmt.Fprintf(&b, "Both servers' files (sshelf's --data, sshd's target directory): %s, under %s. "+
		"Client's files (source, downloads): %s, under %s.\n\n", r.server.mount, r.server.dir, r.client.mount, r.client.dir)
	if len(r.order) > 0 {
		fmt.Fprintf(&b, "Transfers of a %s file over loopback, %s interleaved, median (min–max) in MB/s (10^6 B/s), "+
			"whole client command timed (connection and login included), `sync` (untimed) before each. "+
			"OpenSSH client with its defaults; it picked %s with sshelf and %s with sshd. "+
			"The + sync row is OpenSSH's `cat > f && sync f`, beside the same sshelf samples as exec upload "+
			"(sshelf fsyncs before it answers).\n\n",
			human(c.size), plural(c.rounds, "round"), r.ciphers[0], r.ciphers[1])
		b.WriteString("| transfer | sshelf MB/s | OpenSSH MB/s | ratio | target | sshelf peak RSS |\n|---|---|---|---|---|---|\n")
		for _, w := range r.order {
			sw := w
			if f := r.from[w]; f != "" {
				sw = f
			}
			s, o := r.mbs[sw]["sshelf"], r.mbs[w]["OpenSSH"]
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %.1f MiB |\n", w, spread(s, ""), spread(o, ""),
				median(s)/median(o), ratioTarget(w, c.tmpfs), float64(r.rss[sw])/(1<<20))
		}
		limit := "64 MiB per 1 GiB transfer"
		if c.size > 1<<30 {
			limit = "100 MiB for 10 GiB through exec and SFTP"
		}
		fmt.Fprintf(&b, "\nPeak RSS: VmHWM of the sshelf process, reset before each transfer, the largest of the rounds; target < %s.\n\n", limit)
	}
	if len(r.load) > 0 {
		fmt.Fprintf(&b, "Concurrent sessions: N clients start at once; each %d times logs in (public key), puts a %d KiB file "+
			"(sshelf `put`, sshd `cat > f`), gets it back in a second session and compares. Two rounds per server, each row one round.\n\n",
			c.loadIters, loadFileSize>>10)
		b.WriteString("| N | server | ops/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n")
		rows := append([]loadRow(nil), r.load...)
		sort.SliceStable(rows, func(i, j int) bool {
			if rows[i].n != rows[j].n {
				return rows[i].n < rows[j].n
			}
			return rows[i].server > rows[j].server
		})
		for _, l := range rows {
			fmt.Fprintf(&b, "| %d | %s | %.0f | %.0f | %.0f | %d/%d |\n", l.n, l.server, l.st.opsPerSec,
				float64(pct(l.st.lat, 50))/1e6, float64(pct(l.st.lat, 99))/1e6, l.st.errors, l.st.ops)
		}
		for _, l := range rows {
			if l.st.firstErr != "" {
				fmt.Fprintf(&b, "\nFirst error (%s, N=%d): `%s`\n", l.server, l.n, l.st.firstErr)
			}
		}
		b.WriteString("\n")
	}
	if len(r.cat) > 0 {
		fmt.Fprintf(&b, "Catalog size: one sshelf server per catalog, filled with %d and %d public files of the user measuring; "+
			"one established connection each, commands alternating; put/get of a %d KiB file. Median (min–max), ms.\n\n",
			c.entriesSmall, c.entriesLarge, catalogProbeSize>>10)
		fmt.Fprintf(&b, "| command | %d entries | %d entries | ratio | target |\n|---|---|---|---|---|\n", c.entriesSmall, c.entriesLarge)
		goal := map[string]string{"ls first byte": "< 100 ms", "put": "≤ 1.5", "get": "≤ 1.5", "ls whole": "–"}
		for _, m := range r.catOr {
			s, l := ms(r.cat[m][c.entriesSmall]), ms(r.cat[m][c.entriesLarge])
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s |\n", m, spread(s, ""), spread(l, ""), median(l)/median(s), goal[m])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Run took %v.\n", r.elapsed.Round(time.Second))
	return b.String()
}

// describeMachine names the CPU, cores, memory, kernel and versions.
func describeMachine() string {
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	osName := "?"
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				osName = strings.Trim(v, `"`)
			}
		}
	}
	sshV, _ := exec.Command("ssh", "-V").CombinedOutput()
	return fmt.Sprintf("%s, %d cores, %s RAM, %s, Linux %s, %s, %s", cpu, runtime.NumCPU(), mem, osName,
		strings.TrimSpace(string(kernel)), strings.TrimSpace(string(sshV)), runtime.Version())
}
