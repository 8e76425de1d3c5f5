package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sshelf/sshelf/internal/tiedproc"
)

// profileTransfer runs one more transfer of w to sshelf, outside the
// table, with perf recording the server's CPU (call graphs through Go's
// frame pointers), and writes perf's data and a text summary beside the
// table. perf, not pprof: the server needs no flag for it, and the kernel
// side (system calls, page cache, the file system) shows too.
func profileTransfer(ctx context.Context, e *env, c config, w way, sh *target, src, dst string) error {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return errors.New("--profile needs perf (Debian: apt-get install linux-perf)")
	}
	slug := strings.NewReplacer(" ", "-", ",", "", "+", "").Replace(w.name)
	data := filepath.Join(filepath.Dir(c.out), "profile-"+slug+".perf.data")
	text := filepath.Join(filepath.Dir(c.out), "profile-"+slug+".txt")
	if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
		return err
	}
	// -N: no copy of every binary into ~/.debug.
	rec := exec.Command(perf, "record", "-N", "-g", "-F", "999", "-p", strconv.Itoa(sh.pid), "-o", data)
	var recErr bytes.Buffer
	rec.Stdout, rec.Stderr = &recErr, &recErr
	if err := tiedproc.Start(rec); err != nil {
		return fmt.Errorf("perf record: %w", err)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		rec.Process.Signal(os.Interrupt) // perf writes its data on SIGINT
		return rec.Wait()
	}
	defer stop()
	// perf attaches to the running threads at start; give it that moment
	// (bounded) rather than miss the transfer's first packets.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	logf("== profiling %s to sshelf (pid %d) with perf", w.name, sh.pid)
	mbs, err := transfer(ctx, e, c, w, sh, src, dst)
	if err != nil {
		return err
	}
	// perf may exit non-zero on the interrupt; what counts is its data.
	waitErr := stop()
	if st, err := os.Stat(data); err != nil || st.Size() == 0 {
		return fmt.Errorf("perf record wrote no data (%v): %s", waitErr, recErr.String())
	}
	// Two views: the functions that burn the CPU themselves, and the
	// callers with what they call (children included). Written now, while
	// the binary the symbols come from exists: scripts/bench removes it.
	head := fmt.Sprintf("# %s of %s to sshelf under perf: %.1f MB/s (slowed by the recording)\n", w.name, human(c.size), mbs)
	out := []byte(head)
	for _, view := range [][]string{{"--no-children", "-F", "overhead,dso,sym"}, {"--children", "--sort", "dso,sym"}} {
		rep := exec.CommandContext(ctx, perf, "report", "-i", data, "--stdio", view[0],
			view[1], view[2], "--percent-limit", "1", "-g", "none")
		b, err := rep.Output()
		if err != nil {
			return fmt.Errorf("perf report %s: %w", view[0], err)
		}
		out = append(append(out, "\n# perf report "+view[0]+"\n"...), b...)
	}
	if err := os.WriteFile(text, out, 0o644); err != nil {
		return err
	}
	logf("profile: %s (summary %s)", data, text)
	return nil
}
