package loadtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/testkit"
)

const (
	accounts          = 20
	sessionsPerClient = 10 // 20 x 10 = 200 concurrent sessions
	opsPerSession     = 3
)

// TestStress runs 200 concurrent sessions of mixed put/get/ls/info/rm over
// 20 accounts and checks every download's hash; then that two racing
// uploads to one name leave one whole file; then that nothing leaked.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	// Earlier tests' servers may still be winding down: start from a
	// settled baseline, or a leak could hide under their leftovers.
	before := testkit.Settled()
	// The server lives in a subtest, so that it has stopped, and its
	// database is closed, when the leak check runs.
	t.Run("load", stress)
	// Give or take the runtime's own few.
	testkit.NoLeaks(t, before, 5)
}

func stress(t *testing.T) {
	srv := apptest.Start(t, nil)
	// Each account has one connection for its own workers and one on
	// which others' workers read its files back: at most 10 sessions on a
	// connection at once, OpenSSH's MaxSessions, which sshelf enforces.
	clients := make([]*gossh.Client, accounts)
	readers := make([]*gossh.Client, accounts)
	for i := range clients {
		clients[i] = srv.Dial(t, fmt.Sprintf("user%02d", i), "pw")
		readers[i] = srv.Dial(t, fmt.Sprintf("user%02d", i), "pw")
	}

	var errs, mismatches, ops atomic.Int64
	var errMu sync.Mutex
	var firstErrs []string
	fail := func(format string, args ...any) {
		errs.Add(1)
		errMu.Lock()
		defer errMu.Unlock()
		if len(firstErrs) < 10 {
			firstErrs = append(firstErrs, fmt.Sprintf(format, args...))
		}
	}

	var wg sync.WaitGroup
	for a, c := range clients {
		for w := 0; w < sessionsPerClient; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < opsPerSession; i++ {
					name := fmt.Sprintf("u%02d-w%d-%d", a, w, i)
					content := make([]byte, 1+mrand.IntN(64<<10))
					rand.Read(content)
					want := testkit.SHA256Hex(content)

					r, err := runExec(c, bytes.NewReader(content), "put "+quote(name))
					ops.Add(1)
					if err != nil || r.code != 0 || !strings.HasPrefix(string(r.stdout), want) {
						fail("put %s: err=%v code=%d stderr=%s", name, err, r.code, r.stderr)
						continue
					}
					// Any account may read it back.
					reader := readers[(a+1+w)%accounts]
					r, err = runExec(reader, nil, "get "+quote(name))
					ops.Add(1)
					if err != nil || r.code != 0 {
						fail("get %s: err=%v code=%d stderr=%s", name, err, r.code, r.stderr)
						continue
					}
					if testkit.SHA256Hex(r.stdout) != want {
						mismatches.Add(1)
					}
					r, err = runExec(reader, nil, "info --json "+quote(name))
					ops.Add(1)
					if err != nil || r.code != 0 || !bytes.Contains(r.stdout, []byte(want)) {
						fail("info %s: err=%v code=%d", name, err, r.code)
					}
					if i%2 == 0 {
						r, err = runExec(c, nil, "ls")
						ops.Add(1)
						if err != nil || r.code != 0 {
							fail("ls: err=%v code=%d", err, r.code)
						}
					} else {
						r, err = runExec(c, nil, "rm "+quote(name))
						ops.Add(1)
						if err != nil || r.code != 0 {
							fail("rm %s: err=%v code=%d stderr=%s", name, err, r.code, r.stderr)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("stress: %d sessions, %d operations, %d errors, %d hash mismatches",
		accounts*sessionsPerClient, ops.Load(), errs.Load(), mismatches.Load())
	if errs.Load() != 0 || mismatches.Load() != 0 {
		t.Fatalf("errors: %d, mismatches: %d; first errors:\n%s", errs.Load(), mismatches.Load(), strings.Join(firstErrs, "\n"))
	}

	racingUploads(t, clients[0])

	for _, c := range clients {
		c.Close()
	}
}

// racingUploads puts two different contents to one name at once, many
// times: the file must always be one of them, whole.
func racingUploads(t *testing.T, c *gossh.Client) {
	t.Helper()
	for round := 0; round < 5; round++ {
		a := bytes.Repeat([]byte("A"), 512<<10+round)
		b := bytes.Repeat([]byte("B"), 384<<10+round)
		var wg sync.WaitGroup
		for _, content := range [][]byte{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r, err := runExec(c, bytes.NewReader(content), "put race"); err != nil || r.code != 0 {
					t.Errorf("racing put: err=%v code=%d stderr=%s", err, r.code, r.stderr)
				}
			}()
		}
		wg.Wait()
		r, err := runExec(c, nil, "get race")
		if err != nil || r.code != 0 {
			t.Fatalf("get race: err=%v code=%d stderr=%s", err, r.code, r.stderr)
		}
		if !bytes.Equal(r.stdout, a) && !bytes.Equal(r.stdout, b) {
			t.Fatalf("round %d: racing uploads left a mix of %d bytes", round, len(r.stdout))
		}
	}
}
