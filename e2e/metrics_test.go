package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// metricsAddr is the address the server logged as "metrics listening".
func metricsAddr(t *testing.T, srv *server) string {
	t.Helper()
	for _, l := range srv.jsonLines() {
		if l["msg"] == "metrics listening" {
			if a, ok := l["addr"].(string); ok {
				return a
			}
		}
	}
	t.Fatalf("no metrics listening line in the log:\n%s", srv.logText())
	return ""
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: sshTimeout}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// scrape returns every sample of /metrics by its series (name and labels
// as the text format writes them, labels sorted by name).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsAfterEveryWayIn(t *testing.T) {
	srv := startServer(t, "--metrics-listen", "127.0.0.1:0")
	addr := metricsAddr(t, srv)
	before := scrape(t, addr)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "sshelf_files_stored", "sshelf_stored_bytes"} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}

	// exec: a put of 1000 bytes, a get of it, a get refused.
	put(t, srv, "alice", defaultPasswd, "a.txt", []byte(strings.Repeat("a", 1000)))
	get(t, srv, "alice", defaultPasswd, "a.txt")
	if r := do(t, srv, "alice", defaultPasswd, nil, "get", "no-such.txt"); r.code == 0 {
		t.Fatalf("get of a missing file: %v", r)
	}
	// The sshelf subsystem.
	subsystem(t, srv, "alice", defaultPasswd, nil, "0 whoami\n")
	// SFTP: a put of 500 bytes and a get of a.txt.
	dir := t.TempDir()
	writeLocal(t, dir, "b.txt", []byte(strings.Repeat("b", 500)), 0o644)
	if r := srv.sftpBatch(t, alice(), dir, "put b.txt", "get a.txt a-copy.txt"); r.code != 0 {
		t.Fatalf("sftp: %v", r)
	}
	// Legacy scp (-O; without it scp speaks SFTP): 300 bytes up, a.txt down.
	writeLocal(t, dir, "c.txt", []byte(strings.Repeat("c", 300)), 0o644)
	if r := srv.scp(t, alice(), dir, "-O", "c.txt", srv.remote("alice", "")); r.code != 0 {
		t.Fatalf("scp up: %v", r)
	}
	if r := srv.scp(t, alice(), dir, "-O", srv.remote("alice", "a.txt"), "a-scp.txt"); r.code != 0 {
		t.Fatalf("scp down: %v", r)
	}
	// A wrong password.
	if r := tryLogin(t, srv, "alice", "wrong password"); r.code == 0 {
		t.Fatalf("login with a wrong password: %v", r)
	}

	// The TUI, with a key (tmux cannot answer a password prompt): delete c.txt.
	keyFile, pub := newKey(t)
	srv.inst.mustUserCLI(t, []byte(pub), "key", "add", "alice")
	ssh := "ssh -t " + strings.Join(tuiSSHArgs(keyFile, srv.port), " ") + " alice@127.0.0.1"
	pane := newTmuxPane(t, t.TempDir(), ssh+"; echo TUI-EXIT=$?; sleep 60")
	pane.waitFor("c.txt")
	during := scrape(t, addr)
	if got := during[`sshelf_sessions_active{transport="tui"}`]; got != 1 {
		t.Errorf("sessions_active{tui} during the TUI = %v, want 1", got)
	}
	// a.txt, b.txt, c.txt: c.txt is third.
	pane.keys("j", "j", "d")
	pane.waitFor(`Delete "c.txt"? (y/n)`)
	pane.keys("y")
	pane.waitFor(`deleted "c.txt"`)
	pane.keys("q")
	pane.waitFor("TUI-EXIT=0")

	var after map[string]float64
	pollUntil(sshTimeout, func() bool {
		after = scrape(t, addr)
		return after[`sshelf_sessions_active{transport="tui"}`] == 0
	})
	moved := func(series string) float64 { return after[series] - before[series] }
	want := map[string]float64{
		`sshelf_operations_total{command="put",result="ok",transport="exec"}`:        1,
		`sshelf_operations_total{command="get",result="ok",transport="exec"}`:        1,
		`sshelf_operations_total{command="get",result="not-found",transport="exec"}`: 1,
		`sshelf_operations_total{command="whoami",result="ok",transport="sshelf"}`:   1,
		`sshelf_operations_total{command="put",result="ok",transport="sftp"}`:        1,
		`sshelf_operations_total{command="get",result="ok",transport="sftp"}`:        1,
		`sshelf_operations_total{command="put",result="ok",transport="scp"}`:         1,
		`sshelf_operations_total{command="get",result="ok",transport="scp"}`:         1,
		`sshelf_operations_total{command="rm",result="ok",transport="tui"}`:          1,
		`sshelf_transfer_bytes_total{direction="up",transport="exec"}`:               1000,
		`sshelf_transfer_bytes_total{direction="down",transport="exec"}`:             1000,
		`sshelf_transfer_bytes_total{direction="up",transport="sftp"}`:               500,
		`sshelf_transfer_bytes_total{direction="down",transport="sftp"}`:             1000,
		`sshelf_transfer_bytes_total{direction="up",transport="scp"}`:                300,
		`sshelf_transfer_bytes_total{direction="down",transport="scp"}`:              1000,
		`sshelf_operation_duration_seconds_count{command="put",transport="exec"}`:    1,
		`sshelf_operation_duration_seconds_count{command="put",transport="sftp"}`:    1,
		`sshelf_logins_total{method="password",result="denied"}`:                     1,
		`sshelf_logins_total{method="publickey",result="ok"}`:                        1,
		// exec put, get, get; subsystem; sftp; scp twice.
		`sshelf_logins_total{method="password",result="ok"}`: 7,
		`sshelf_files_stored`:                                2,
		`sshelf_stored_bytes`:                                1500,
	}
	for series, n := range want {
		if got := moved(series); got != n {
			t.Errorf("%s moved by %v, want %v", series, got, n)
		}
	}
	// The same observer writes the audit log: one line per operation, on
	// every way in, the TUI's included.
	audit := map[string]int{}
	for _, m := range srv.jsonLines() {
		if m["msg"] == "op" {
			tr, _ := m["transport"].(string)
			cmd, _ := m["command"].(string)
			audit[tr+" "+cmd]++
		}
	}
	for op, n := range map[string]int{
		"exec put": 1, "exec get": 2, "sshelf whoami": 1, "sftp put": 1, "sftp get": 1,
		"scp put": 1, "scp get": 1, "tui rm": 1,
	} {
		if audit[op] != n {
			t.Errorf("audit log has %d %q lines, want %d (all: %v)", audit[op], op, n, audit)
		}
	}
	for _, way := range []string{"exec", "sshelf", "sftp", "scp", "tui"} {
		if got := after[`sshelf_sessions_active{transport="`+way+`"}`]; got != 0 {
			t.Errorf("sessions_active{%s} after every session ended = %v", way, got)
		}
	}
	if after["sshelf_password_hash_wait_seconds_count"] < 8 {
		t.Errorf("password hash waits = %v, want one per password login (8)", after["sshelf_password_hash_wait_seconds_count"])
	}

	if code, body := httpGet(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := httpGet(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	// The catalog moved away: not ready, and the reason says which.
	db := filepath.Join(srv.dataDir(), "sshelf.db")
	if err := os.Rename(db, db+".away"); err != nil {
		t.Fatal(err)
	}
	code, body := httpGet(t, "http://"+addr+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "catalog: ") {
		t.Errorf("/readyz without the catalog = %d %q, want 503 naming the catalog", code, body)
	}
	if code, _ := httpGet(t, "http://"+addr+"/healthz"); code != 200 {
		t.Errorf("/healthz without the catalog = %d, want 200", code)
	}
	if err := os.Rename(db+".away", db); err != nil {
		t.Fatal(err)
	}
	if code, body := httpGet(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz with the catalog back = %d %q", code, body)
	}
}
