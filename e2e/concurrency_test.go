package e2e

import (
	"bytes"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

// Two users race to create the same new name: exactly one wins, the other is
// refused, and the stored file is the winner's, whole.
func TestConcurrentCreateSameName(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	login(t, srv, "bob", bobPW)
	for round := 0; round < 3; round++ {
		name := "race" + string(rune('a'+round)) + ".bin"
		data := map[string][]byte{"alice": testkit.RandBytes(t, 1<<20), "bob": testkit.RandBytes(t, 1<<20)}
		pws := map[string]string{"alice": alicePW, "bob": bobPW}
		res := map[string]result{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, u := range []string{"alice", "bob"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := do(t, srv, u, pws[u], data[u], "put", name)
				mu.Lock()
				res[u] = r
				mu.Unlock()
			}()
		}
		wg.Wait()
		var winners []string
		for u, r := range res {
			switch r.code {
			case 0:
				winners = append(winners, u)
			case 1:
				checkOneErrorLine(t, r, "sshelf: put: "+name+": ", u+" losing put")
			default:
				t.Errorf("%s put %s: want exit 0 or 1, got %v", u, name, r)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: want exactly one winner, got %q (%v)", round, winners, res)
		}
		w := winners[0]
		fi := info(t, srv, "alice", alicePW, name)
		if fi.Owner != w || fi.SHA256 != testkit.SHA256Hex(data[w]) {
			t.Errorf("round %d: winner %s but info says %+v", round, w, fi)
		}
		if got := get(t, srv, "alice", alicePW, name); !bytes.Equal(got, data[w]) {
			t.Errorf("round %d: content is not the winner's whole upload", round)
		}
	}
}

// The owner replaces a file from several sessions at once: every put
// succeeds and the result is one of the uploads, whole. Readers during the
// replacements always get one version whole.
func TestConcurrentReplaceAndRead(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	first := testkit.RandBytes(t, 512<<10)
	put(t, srv, "alice", alicePW, "hot.bin", first)
	login(t, srv, "bob", bobPW)
	versions := [][]byte{first}
	for i := 0; i < 3; i++ {
		versions = append(versions, testkit.RandBytes(t, 512<<10+i*1000))
	}
	isVersion := func(b []byte) bool {
		for _, v := range versions {
			if bytes.Equal(b, v) {
				return true
			}
		}
		return false
	}
	var wg sync.WaitGroup
	for i := 1; i < len(versions); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, srv, "alice", alicePW, versions[i], "put", "hot.bin")
			if r.code != 0 {
				t.Errorf("concurrent owner put %d: %v", i, r)
			}
		}()
	}
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, srv, "bob", bobPW, nil, "get", "hot.bin")
			if r.code != 0 || !isVersion(r.stdout) {
				t.Errorf("reader during replacements: exit %d, %d bytes, a whole version: %v", r.code, len(r.stdout), isVersion(r.stdout))
			}
		}()
	}
	wg.Wait()
	got := get(t, srv, "bob", bobPW, "hot.bin")
	if !isVersion(got) {
		t.Fatalf("after concurrent replacements: content is none of the uploads")
	}
	if fi := info(t, srv, "bob", bobPW, "hot.bin"); fi.SHA256 != testkit.SHA256Hex(got) || fi.Size != int64(len(got)) {
		t.Fatalf("info does not match the content: %+v", fi)
	}
}

// Two first logins with the same new name and different passwords: one
// account is created, with one password.
func TestConcurrentSignupSameName(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	pws := []string{"pw-one", "pw-two"}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range pws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = do(t, srv, "twin", pws[i], nil, "whoami").code
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 0 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("concurrent signups of one name with different passwords: want exactly one success, got exit codes %v", codes)
	}
	winner := pws[0]
	if codes[0] != 0 {
		winner = pws[1]
	}
	login(t, srv, "twin", winner)
	for _, pw := range pws {
		if pw != winner {
			if r := tryLogin(t, srv, "twin", pw); r.code != 255 {
				t.Errorf("the losing password also logs in: %v", r)
			}
		}
	}
}

// SIGINT stops the server like SIGTERM.
func TestSIGINTStops(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	if err := srv.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	case <-time.After(stopTimeout):
		t.Fatalf("server still running %v after SIGINT with nothing in flight", stopTimeout)
	}
	if srv.exitErr != nil {
		t.Logf("exit after SIGINT: %v", srv.exitErr)
	}
	srv2 := srv.inst.start(t)
	login(t, srv2, "alice", alicePW)
}
