package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// catalogProbeSize is the size of the files put and got at each catalog size.
const catalogProbeSize = 4 << 10

// runCatalog serves two catalogs, one of c.entriesSmall and one of
// c.entriesLarge public files all owned by the user who then lists, puts
// and gets, and times those commands on both, alternating.
func runCatalog(ctx context.Context, e *env, c config, rep *report) error {
	sizes := []int{c.entriesSmall, c.entriesLarge}
	conns := make([]*gossh.Client, len(sizes))
	for i, n := range sizes {
		data := filepath.Join(e.dir, fmt.Sprintf("sshelf-catalog-%d", n))
		start := time.Now()
		if err := fillCatalog(ctx, data, n); err != nil {
			return fmt.Errorf("fill %d entries: %w", n, err)
		}
		logf("filled %d entries in %v", n, time.Since(start).Round(time.Millisecond))
		t, err := e.startSshelf(ctx, data, "bench")
		if err != nil {
			return err
		}
		if conns[i], err = e.dial(t, "bench"); err != nil {
			return err
		}
		defer conns[i].Close()
	}
	probe := make([]byte, catalogProbeSize)
	rand.Read(probe)
	lsRounds, opRounds := 5, 20
	if c.quick {
		lsRounds, opRounds = 3, 10
	}
	for r := 0; r < opRounds; r++ {
		for i, n := range sizes {
			if err := ctx.Err(); err != nil {
				return err
			}
			cl := conns[i]
			name := fmt.Sprintf("probe-%d", r)
			start := time.Now()
			if _, err := run(cl, "put "+name, probe); err != nil {
				return fmt.Errorf("put at %d entries: %w", n, err)
			}
			rep.addCatalog("put", n, time.Since(start))
			start = time.Now()
			got, err := run(cl, "get "+name, nil)
			if err != nil || !bytes.Equal(got, probe) {
				return fmt.Errorf("get at %d entries: %v", n, err)
			}
			rep.addCatalog("get", n, time.Since(start))
			if r < lsRounds {
				first, total, lines, err := timeList(cl)
				if err != nil {
					return fmt.Errorf("ls at %d entries: %w", n, err)
				}
				if lines < n {
					return fmt.Errorf("ls at %d entries: only %d lines", n, lines)
				}
				rep.addCatalog("ls first byte", n, first)
				rep.addCatalog("ls whole", n, total)
				logf("round %d %7d entries: ls first byte %v, whole %v", r+1, n, first, total)
			}
		}
	}
	return nil
}

// fillCatalog creates the catalog in data through the files package (so
// its schema is the server's) and fills it with n public files of user
// "bench" in one statement. The rows have no content: only listings
// touch them, and the server's start-up recovery removes contents without
// rows, never rows without contents.
func fillCatalog(ctx context.Context, data string, n int) error {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	db, err := sqlitedb.Open(ctx, filepath.Join(data, "sshelf.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := sqlite.New(ctx, db); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO files (name, owner, size, hidden, password_hash, sha256, uploaded, blob)
		SELECT printf('file-%08d', i), 'bench', 1024, 0, '', ?, ?, printf('%032x', i) FROM seq`,
		n-1, fmt.Sprintf("%064d", 0), time.Now().UnixNano())
	return err
}

// timeList runs ls and returns the time to its first byte of output, to
// its end, and the number of lines.
func timeList(c *gossh.Client) (first, total time.Duration, lines int, err error) {
	s, err := c.NewSession()
	if err != nil {
		return 0, 0, 0, err
	}
	defer s.Close()
	w := &firstByte{start: time.Now()}
	s.Stdout = w
	if err := s.Run("ls"); err != nil {
		return 0, 0, 0, err
	}
	return w.first, time.Since(w.start), w.lines, nil
}

// firstByte counts lines and notes when the first byte came.
type firstByte struct {
	mu    sync.Mutex
	start time.Time
	first time.Duration
	lines int
}

func (w *firstByte) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first == 0 && len(p) > 0 {
		w.first = time.Since(w.start)
	}
	w.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}
