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
	"strings"
	"syscall"
	"time"
)

type config struct {
	sshelfBin string
	out       string
	quick     bool
	rounds    int
	size      int64
	sessions  []int
	loadIters int
	small     int // catalog size of the small side
	large     int // catalog size of the large side
	only      string
}

func main() {
	var c config
	var sessions string
	flag.StringVar(&c.sshelfBin, "sshelf", "", "the sshelf binary to measure (required)")
	flag.StringVar(&c.out, "out", "bench-results/latest.md", "where to write the table")
	flag.BoolVar(&c.quick, "quick", false, "smaller sizes and fewer rounds (under 2 minutes)")
	flag.IntVar(&c.rounds, "rounds", 0, "rounds of each transfer (default 3, quick 2)")
	flag.StringVar(&sessions, "sessions", "", "concurrent session counts, comma-separated (default 100,500; quick 100)")
	flag.StringVar(&c.only, "only", "", "run one part only: transfer, load or catalog (for profiling)")
	flag.Parse()
	if c.sshelfBin == "" {
		fmt.Fprintln(os.Stderr, "benchtool: --sshelf is required (run scripts/bench)")
		os.Exit(2)
	}
	c.size, c.small, c.large, c.loadIters = 1<<30, 1000, 1000000, 3
	defRounds, defSessions := 3, "100,500"
	if c.quick {
		c.size, c.large, c.loadIters = 128<<20, 100000, 2
		defRounds, defSessions = 2, "100"
	}
	if c.rounds <= 0 {
		c.rounds = defRounds
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
	start := time.Now()
	e, err := newEnv(ctx, c.sshelfBin)
	if err != nil {
		return err
	}
	defer e.cleanup()

	rep := &report{cfg: c, machine: describeMachine()}
	if c.only == "" || c.only == "transfer" {
		logf("== transfers: %s, %d rounds", human(c.size), c.rounds)
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
		logf("== catalog: %d vs %d entries", c.small, c.large)
		if err := runCatalog(ctx, e, c, rep); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(start)
	table := rep.markdown()
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(c.out, []byte(table), 0o644); err != nil {
		return err
	}
	logf("written to %s", c.out)
	return nil
}

// logf reports progress on stderr, keeping stdout for the table.
func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", a...)
}
