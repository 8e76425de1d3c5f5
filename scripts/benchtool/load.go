package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// loadFileSize is the size of each small file of the concurrency test.
const loadFileSize = 16 << 10

// usersPerAccount keeps sshelf's sessions per account (default 100) out of
// the way: the test measures the server, not its per-user cap.
const usersPerAccount = 50

// loadLimits lift sshelf's caps on connections and sessions per client
// address and in total, which every load worker, all on 127.0.0.1, would
// otherwise hit at once (defaults: 10 connections before login and 50
// sessions per address): the test measures the server, not its flood
// protection, as sshd's MaxStartups does for OpenSSH.
var loadLimits = []string{
	"--max-sessions", "0", "--max-sessions-per-address", "0",
	"--max-unauthenticated", "0", "--max-unauthenticated-per-address", "0",
	"--max-connections-per-address", "0",
}

// loadStats is one run of n concurrent workers against one server.
type loadStats struct {
	ops, errors int
	wall        time.Duration
	opsPerSec   float64
	lat         []time.Duration
	firstErr    string
}

// runLoad starts n workers at once against each server, alternating which
// goes first; each worker does c.loadIters times: connect and log in, put
// a small file, get it back in another session, compare, disconnect.
func runLoad(ctx context.Context, e *env, c config, n int, rep *report) error {
	accounts := make([]string, (n+usersPerAccount-1)/usersPerAccount)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("load%d", i)
	}
	sh, err := e.startSshelfWith(ctx, sshelfRun{name: "sshelf", data: filepath.Join(e.dir, fmt.Sprintf("sshelf-load-%d", n)),
		users: accounts, args: loadLimits})
	if err != nil {
		return err
	}
	ossh, err := e.startSSHD(ctx)
	if err != nil {
		return err
	}
	rounds := 2
	for r := 0; r < rounds; r++ {
		targets := []*target{sh, ossh}
		if r%2 == 1 {
			targets[0], targets[1] = ossh, sh
		}
		for _, t := range targets {
			if err := ctx.Err(); err != nil {
				return err
			}
			userOf := func(i int) string { return t.user }
			if t.name == "sshelf" {
				userOf = func(i int) string { return accounts[i/usersPerAccount] }
			}
			st := loadOnce(ctx, e, func(int) *target { return t }, n, c.loadIters, userOf)
			rep.addLoad(n, t.name, st)
			logf("round %d %-7s %4d sessions: %6.1f ops/s p50 %v p99 %v errors %d %s", r+1, t.name, n,
				st.opsPerSec, pct(st.lat, 50), pct(st.lat, 99), st.errors, st.firstErr)
		}
	}
	return nil
}

// loadOnce runs n workers at once, worker i against targetOf(i) as
// userOf(i), each iters times oneOp.
func loadOnce(ctx context.Context, e *env, targetOf func(int) *target, n, iters int, userOf func(int) string) loadStats {
	var (
		mu    sync.Mutex
		st    loadStats
		wg    sync.WaitGroup
		ready = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			data := make([]byte, loadFileSize)
			rand.Read(data)
			<-ready
			for k := 0; k < iters && ctx.Err() == nil; k++ {
				start := time.Now()
				err := oneOp(e, targetOf(i), userOf(i), fmt.Sprintf("load-%d-%d", i, k), data)
				d := time.Since(start)
				mu.Lock()
				st.ops++
				if err != nil {
					st.errors++
					if st.firstErr == "" {
						st.firstErr = err.Error()
					}
				} else {
					st.lat = append(st.lat, d)
				}
				mu.Unlock()
			}
		}(i)
	}
	start := time.Now()
	close(ready)
	wg.Wait()
	st.wall = time.Since(start)
	st.opsPerSec = float64(st.ops-st.errors) / st.wall.Seconds()
	sort.Slice(st.lat, func(i, j int) bool { return st.lat[i] < st.lat[j] })
	return st
}

// opDeadline bounds one operation of the concurrency test: a stuck
// session counts as an error instead of holding up the run.
const opDeadline = 2 * time.Minute

// oneOp is login + put + get + verify, each command in its own session.
func oneOp(e *env, t *target, user, name string, data []byte) error {
	c, err := e.dialWithin(t, user, opDeadline)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	defer c.Close()
	if _, err := run(c, t.putCmd(name), data); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	got, err := run(c, t.getCmd(name), nil)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("get: %d bytes back, differing from the %d put", len(got), len(data))
	}
	return nil
}

// run runs cmd in a new session with stdin and returns its stdout.
func run(c *gossh.Client, cmd string, stdin []byte) ([]byte, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	if err := s.Run(cmd); err != nil {
		return nil, fmt.Errorf("%v: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// pct is the p-th percentile of sorted durations.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	return d[min(max(i-1, 0), len(d)-1)]
}
