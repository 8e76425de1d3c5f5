package files

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/clientaddr"
	"github.com/sshelf/sshelf/internal/testkit"
	"github.com/sshelf/sshelf/internal/throttle"
)

// gatedHasher counts the download-password checks and holds each at a gate
// until it is opened.
type gatedHasher struct {
	passwordHasher
	checks, waiting atomic.Int64
	gate            chan struct{}
}

func (h *gatedHasher) Verify(ctx context.Context, pw, enc string) (bool, error) {
	h.checks.Add(1)
	if h.gate != nil {
		h.waiting.Add(1)
		<-h.gate
	}
	return h.passwordHasher.Verify(ctx, pw, enc)
}

// Rule 8 under a burst: parallel wrong tries, all in flight when the right
// one arrives: the right one never gets the content, and no more tries
// are checked than the limit, whichever key the burst fills.
func TestDownloadPasswordBurst(t *testing.T) {
	t.Parallel()
	const max, burst = 10, 60
	tests := []struct {
		name      string
		user      func(i int) string
		addr      func(i int) string
		rightUser string
		rightAddr string
	}{
		{"one account, one address", func(int) string { return "bob" }, func(int) string { return "192.0.2.1" }, "bob", "192.0.2.1"},
		{"fresh accounts, fresh addresses: the file's count", func(i int) string { return fmt.Sprint("fresh", i) },
			func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }, "late", "203.0.113.1"},
		{"fresh accounts, one address: the address's count", func(i int) string { return fmt.Sprint("fresh", i) },
			func(int) string { return "192.0.2.7" }, "late", "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withPolicy(throttle.Policy{MaxFailures: max, Window: time.Hour, Lockout: time.Hour}))
			e.mustPut(t, "alice", PutOptions{Name: "secret", Password: "right"}, []byte("the content"))
			h := &gatedHasher{passwordHasher: e.svc.hasher, gate: make(chan struct{})}
			e.svc.hasher = h
			var wg sync.WaitGroup
			var settled, wrong, throttledN atomic.Int64
			for i := range burst - 1 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer settled.Add(1)
					ctx := clientaddr.With(context.Background(), tt.addr(i))
					_, err := e.svc.Open(ctx, tt.user(i), "secret", fmt.Sprint("guess", i))
					switch {
					case errors.Is(err, ErrWrongPassword):
						wrong.Add(1)
					case errors.Is(err, ErrThrottled):
						throttledN.Add(1)
					default:
						t.Errorf("guess %d: %v", i, err)
					}
				}()
			}
			for i := 0; h.waiting.Load()+settled.Load() < burst-1; i++ {
				if i > 2000 {
					t.Fatal("timed out waiting for the burst to reserve")
				}
				time.Sleep(5 * time.Millisecond)
			}
			ctx := clientaddr.With(context.Background(), tt.rightAddr)
			if _, err := e.svc.Open(ctx, tt.rightUser, "secret", "right"); !errors.Is(err, ErrThrottled) {
				t.Errorf("the right password inside the burst: %v, want ErrThrottled", err)
			}
			close(h.gate)
			wg.Wait()
			if n := h.checks.Load(); n > max {
				t.Errorf("%d checks for a burst of %d, limit %d", n, burst, max)
			}
			if wrong.Load()+throttledN.Load() != burst-1 {
				t.Errorf("%d wrong, %d throttled of %d", wrong.Load(), throttledN.Load(), burst-1)
			}
			// Its owner still opens it, from anywhere not locked.
			if _, err := e.svc.Open(clientaddr.With(context.Background(), "203.0.113.99"), "alice", "secret", "right"); err != nil {
				t.Errorf("the owner after the burst: %v", err)
			}
		})
	}
}

// Five fresh accounts from five addresses share the file's count: together
// they get no more wrong tries than the limit. One address shares its
// count across files and accounts.
func TestDownloadTriesPerFileAndAddress(t *testing.T) {
	t.Parallel()
	const max = 4
	e := newEnv(t, withPolicy(throttle.Policy{MaxFailures: max, Window: time.Hour, Lockout: time.Hour}))
	for _, name := range []string{"f", "g1", "g2", "g3"} {
		e.mustPut(t, "alice", PutOptions{Name: name, Password: "pw"}, []byte(name))
	}
	try := func(user, addr, file, pw string) error {
		_, err := e.svc.Open(clientaddr.With(context.Background(), addr), user, file, pw)
		return err
	}
	checked := 0
	for i := range 5 {
		for j := range 3 {
			err := try(fmt.Sprint("fresh", i), fmt.Sprintf("198.51.100.%d", i), "f", fmt.Sprint("guess", i, j))
			if errors.Is(err, ErrWrongPassword) {
				checked++
			}
		}
	}
	if checked != max-1 { // the max-th wrong try locks and answers ErrThrottled
		t.Errorf("%d wrong tries answered as wrong across five accounts, want %d", checked, max-1)
	}
	if err := try("alice", "198.51.100.0", "f", "pw"); err != nil {
		t.Errorf("owner: %v", err)
	}

	// One address, one account per file: the address's count.
	for i, file := range []string{"g1", "g2", "g3", "g1"} {
		want := ErrWrongPassword
		if i == max-1 {
			want = ErrThrottled
		}
		testkit.WantErr(t, fmt.Sprintf("try %d from one address", i), try(fmt.Sprint("acct", i), "192.0.2.5", file, "bad"), want)
	}
	testkit.WantErr(t, "the address is locked, right password", try("newcomer", "192.0.2.5", "g2", "pw"), ErrThrottled)
	testkit.WantErr(t, "the owner from that address is not", try("alice", "192.0.2.5", "g2", "pw"), nil)
	testkit.WantErr(t, "another address", try("newcomer", "192.0.2.6", "g2", "pw"), nil)

	ctx := context.Background()
	done, err := e.svc.Unlock(ctx, "192.0.2.5")
	if err != nil || len(done) != 1 {
		t.Fatalf("Unlock address = %q, %v", done, err)
	}
	testkit.WantErr(t, "after unlock", try("newcomer", "192.0.2.5", "g2", "pw"), nil)
	testkit.WantErr(t, "bob's wrong try", try("bob", "192.0.2.8", "g3", "bad"), ErrWrongPassword)
	if done, err := e.svc.Unlock(ctx, "bob"); err != nil || len(done) != 1 {
		t.Fatalf("Unlock account = %q, %v", done, err)
	}
}
