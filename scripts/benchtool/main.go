// Command benchtool measures sshelf against OpenSSH's own sshd on the same
// machine, in one run (issue 6): bulk transfers through exec, sftp and
// scp with the OpenSSH client's defaults, sshelf's peak memory, many
// concurrent sessions, and catalog latency at 1k vs 1M files. scripts/bench
// builds and runs it; it starts every server itself and stops them on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	sshelfBin    string
	out          string
	quick        bool
	rounds       int
	size         int64
	sessions     []int
	loadIters    int
	entriesSmall int // catalog size of the small side
	entriesLarge int // catalog size of the large side
	only         string
	tmpfs        bool     // servers' files on /dev/shm instead of the disk
	large        bool     // the 10 GiB memory run (issue 14)
	ways         []string // transfer kinds to run: exec, sftp, scp (empty: all)
	profile      string   // a transfer to profile the sshelf server during, or ""
	cluster      bool     // the cluster run (issue 12) instead of the comparison with sshd
}

func main() {
	var c config
	var sessions, waysList string
	var size byteSize
	flag.StringVar(&c.sshelfBin, "sshelf", "", "the sshelf binary to measure (required)")
	flag.StringVar(&c.out, "out", "bench-results/latest.md", "where to write the table")
	flag.BoolVar(&c.quick, "quick", false, "smaller sizes and fewer rounds (under 2 minutes)")
	flag.IntVar(&c.rounds, "rounds", 0, "rounds of each transfer (default 3, quick 2, large 1)")
	flag.StringVar(&sessions, "sessions", "", "concurrent session counts, comma-separated (default 100,500; quick 100)")
	flag.StringVar(&c.only, "only", "", "run one part only: transfer, load or catalog (for profiling)")
	flag.BoolVar(&c.tmpfs, "tmpfs", false, "keep both servers' files on /dev/shm instead of the disk ("+benchDirEnv+", default /var/tmp)")
	flag.Var(&size, "size", "size of the transferred file, e.g. 64M, 1G, 10G (default 1G, quick 128M, large 10G)")
	flag.BoolVar(&c.large, "large", false, "memory run: 10 GiB up and down through exec and sftp, 1 round, transfers only")
	flag.StringVar(&waysList, "ways", "", "transfer kinds to run, comma-separated: exec, sftp, scp (default all; large exec,sftp)")
	flag.BoolVar(&c.cluster, "cluster", false, "cluster run: sshelf on PostgreSQL + S3 against the embedded default (transfers, then sessions over two instances); writes bench-results/cluster.md")
	flag.StringVar(&c.profile, "profile", "", "after the rounds, one more transfer of this kind (e.g. \"sftp put\") to sshelf under perf record")
	flag.Parse()
	if c.sshelfBin == "" {
		fmt.Fprintln(os.Stderr, "benchtool: --sshelf is required (run scripts/bench)")
		os.Exit(2)
	}
	c.size, c.entriesSmall, c.entriesLarge, c.loadIters = 1<<30, 1000, 1000000, 3
	defRounds, defSessions := 3, "100,500"
	if c.quick {
		c.size, c.entriesLarge, c.loadIters = 128<<20, 100000, 2
		defRounds, defSessions = 2, "100"
	}
	if c.large {
		c.size, defRounds = 10<<30, 1
		if c.only == "" {
			c.only = "transfer"
		}
		if waysList == "" {
			waysList = "exec,sftp"
		}
	}
	if c.cluster {
		if c.profile != "" {
			fmt.Fprintln(os.Stderr, "benchtool: --profile measures the comparison with sshd, not --cluster")
			os.Exit(2)
		}
		if c.only == "catalog" {
			fmt.Fprintln(os.Stderr, "benchtool: --cluster has the parts transfer and load")
			os.Exit(2)
		}
		if !c.quick {
			defSessions = "500"
		}
		if waysList == "" {
			waysList = "exec,sftp"
		}
		if !isSet("out") {
			c.out = "bench-results/cluster.md"
		}
	}
	if size > 0 {
		c.size = int64(size)
	}
	if c.rounds <= 0 {
		c.rounds = defRounds
	}
	if waysList != "" {
		c.ways = strings.Split(waysList, ",")
		for _, k := range c.ways {
			if k != "exec" && k != "sftp" && k != "scp" {
				fmt.Fprintf(os.Stderr, "benchtool: bad --ways %q: want exec, sftp or scp, comma-separated\n", waysList)
				os.Exit(2)
			}
		}
	}
	if w := wayNamed(c.profile); c.profile != "" && (w == nil || w.only != "") {
		fmt.Fprintf(os.Stderr, "benchtool: bad --profile %q: want a transfer sshelf takes part in: %s\n", c.profile, wayNames())
		os.Exit(2)
	}
	if sessions == "" {
		sessions = defSessions
	}
	for _, s := range strings.Split(sessions, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "benchtool: bad --sessions %q\n", sessions)
			os.Exit(2)
		}
		c.sessions = append(c.sessions, n)
	}

	// SIGINT/SIGTERM cancel the run; the deferred cleanup then stops every
	// process started, as on a normal exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runAll(ctx, c); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool: %v\n", err)
		os.Exit(1)
	}
}

func runAll(ctx context.Context, c config) error {
	if c.cluster {
		return runCluster(ctx, c)
	}
	start := time.Now()
	e, err := newEnv(ctx, c)
	if err != nil {
		return err
	}
	defer e.cleanup()

	rep := &report{cfg: c, machine: describeMachine(), server: e.server, client: e.clientAt}
	logf("== servers' files in %v; client's files in %v", e.server, e.clientAt)
	if c.only == "" || c.only == "transfer" {
		logf("== transfers: %s, %s", human(c.size), plural(c.rounds, "round"))
		if err := runTransfers(ctx, e, c, rep); err != nil {
			return err
		}
	}
	if c.only == "" || c.only == "load" {
		for _, n := range c.sessions {
			logf("== %d concurrent sessions", n)
			if err := runLoad(ctx, e, c, n, rep); err != nil {
				return err
			}
		}
	}
	if c.only == "" || c.only == "catalog" {
		logf("== catalog: %d vs %d entries", c.entriesSmall, c.entriesLarge)
		if err := runCatalog(ctx, e, c, rep); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(start)
	return writeTable(c.out, rep.markdown())
}

// isSet says whether the command line gave the flag name.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// writeTable prints table and writes it to out.
func writeTable(out, table string) error {
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
		return err
	}
	logf("written to %s", out)
	return nil
}

// byteSize is a flag of a byte count with an optional binary unit: 512K,
// 64M, 10G (powers of 1024), as sshelf's own size flags take them.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	u := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B"))
	shift := 0
	if n := len(u); n > 0 {
		if i := strings.IndexByte("KMGT", u[n-1]); i >= 0 {
			shift, u = 10*(i+1), u[:n-1]
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return fmt.Errorf("want a size such as 64M, 1G or 10G, not %q", s)
	}
	*b = byteSize(n << shift)
	return nil
}

// logf reports progress on stderr, keeping stdout for the table.
func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}
