package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
)

func TestObserveCountsEvents(t *testing.T) {
	tests := []struct {
		name   string
		events []ops.Event
		ops    map[[3]string]float64 // transport, command, result
		bytes  map[[2]string]float64 // direction, transport
	}{
		{
			name: "put and get",
			events: []ops.Event{
				{Transport: "exec", Command: "put", Bytes: 10, Elapsed: time.Millisecond},
				{Transport: "sftp", Command: "get", Bytes: 7},
			},
			ops:   map[[3]string]float64{{"exec", "put", "ok"}: 1, {"sftp", "get", "ok"}: 1},
			bytes: map[[2]string]float64{{"up", "exec"}: 10, {"down", "sftp"}: 7, {"up", "sftp"}: 0},
		},
		{
			name: "refused by kind",
			events: []ops.Event{
				{Transport: "scp", Command: "get", Err: fmt.Errorf("get %q: %w", "x", files.ErrNotFound)},
				{Transport: "scp", Command: "get", Err: files.ErrNotFound},
				{Transport: "tui", Command: "rm", Err: files.ErrPermission},
			},
			ops: map[[3]string]float64{{"scp", "get", "not-found"}: 2, {"tui", "rm", string(files.KindPermission)}: 1,
				{"scp", "get", "ok"}: 0},
			bytes: map[[2]string]float64{{"down", "scp"}: 0},
		},
		{
			name: "a command word the client made up is other",
			events: []ops.Event{
				{Transport: "exec", Command: "\x1b[2Jrm-everything", Err: &ops.UsageError{Msg: "unknown command; try help"}},
				{Transport: "exec", Command: "", Err: &ops.UsageError{Msg: "no command"}},
				{Transport: "sftp", Command: "rename"},
			},
			ops: map[[3]string]float64{{"exec", "other", "usage"}: 2, {"sftp", "rename", "ok"}: 1,
				{"exec", "\x1b[2Jrm-everything", "usage"}: 0},
		},
		{
			name:   "no bytes for other commands",
			events: []ops.Event{{Transport: "sshelf", Command: "ls", Bytes: 100}},
			ops:    map[[3]string]float64{{"sshelf", "ls", "ok"}: 1},
			bytes:  map[[2]string]float64{{"up", "sshelf"}: 0, {"down", "sshelf"}: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(nil)
			for _, e := range tt.events {
				m.Observe(context.Background(), e)
			}
			for l, want := range tt.ops {
				if got := testutil.ToFloat64(m.ops.WithLabelValues(l[0], l[1], l[2])); got != want {
					t.Errorf("operations%v = %v, want %v", l, got, want)
				}
			}
			for l, want := range tt.bytes {
				if got := testutil.ToFloat64(m.bytes.WithLabelValues(l[0], l[1])); got != want {
					t.Errorf("bytes%v = %v, want %v", l, got, want)
				}
			}
			if got, want := testutil.CollectAndCount(m.duration), len(tt.events); got > want || got == 0 {
				t.Errorf("duration series = %d, want 1..%d", got, want)
			}
		})
	}
}

func TestLoginResults(t *testing.T) {
	tests := []struct {
		err     error
		result  string
		blocked string // "" no lockout counted
	}{
		{nil, "ok", ""},
		{auth.ErrDenied, "denied", ""},
		{fmt.Errorf("login: %w", auth.ErrNoAccount), "denied", ""},
		{&auth.Refusal{Blocked: auth.BlockedAddress}, "locked", auth.BlockedAddress},
		{&auth.Refusal{Blocked: auth.BlockedAccount}, "locked", auth.BlockedAccount},
		{&auth.Refusal{Blocked: auth.BlockedSignup}, "signup-limited", auth.BlockedSignup},
		{auth.ErrLocked, "locked", "unknown"},
		{errors.New("disk I/O"), "error", ""},
	}
	for _, tt := range tests {
		m := New(nil)
		m.Login("password", tt.err)
		if got := testutil.ToFloat64(m.logins.WithLabelValues("password", tt.result)); got != 1 {
			t.Errorf("Login(%v): logins{result=%q} = %v, want 1", tt.err, tt.result, got)
		}
		wantLockouts := 0
		if tt.blocked != "" {
			wantLockouts = 1
			if got := testutil.ToFloat64(m.refusals.WithLabelValues(tt.blocked)); got != 1 {
				t.Errorf("Login(%v): lockouts{blocked=%q} = %v, want 1", tt.err, tt.blocked, got)
			}
		}
		if got := testutil.CollectAndCount(m.refusals); got != wantLockouts {
			t.Errorf("Login(%v): %d lockout series, want %d", tt.err, got, wantLockouts)
		}
	}
}

func TestSessionsAndStored(t *testing.T) {
	m := New(func(context.Context) (int64, int64, error) { return 3, 300, nil })
	end1 := m.SessionStarted("sftp")
	end2 := m.SessionStarted("sftp")
	m.SessionStarted("tui")
	end1()
	m.HashWait(2 * time.Millisecond)
	want := `
# HELP sshelf_files_stored Files in the catalog.
# TYPE sshelf_files_stored gauge
sshelf_files_stored 3
# HELP sshelf_sessions_active Sessions open now, by way in.
# TYPE sshelf_sessions_active gauge
sshelf_sessions_active{transport="exec"} 0
sshelf_sessions_active{transport="scp"} 0
sshelf_sessions_active{transport="sftp"} 1
sshelf_sessions_active{transport="sshelf"} 0
sshelf_sessions_active{transport="tui"} 1
# HELP sshelf_stored_bytes Bytes of the files in the catalog.
# TYPE sshelf_stored_bytes gauge
sshelf_stored_bytes 300
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"sshelf_files_stored", "sshelf_stored_bytes", "sshelf_sessions_active"); err != nil {
		t.Error(err)
	}
	end2()
	if n := testutil.CollectAndCount(m.hashWait); n != 1 {
		t.Errorf("hash wait series = %d", n)
	}
}

func TestHandler(t *testing.T) {
	failing := errors.New("database is locked")
	tests := []struct {
		path   string
		checks []Check
		code   int
		body   string
	}{
		{"/healthz", nil, 200, "ok"},
		{"/readyz", []Check{{"catalog", func(context.Context) error { return nil }}}, 200, "ok"},
		{"/readyz", []Check{{"catalog", func(context.Context) error { return nil }},
			{"blob store", func(context.Context) error { return failing }}}, 503, "blob store: database is locked"},
		{"/healthz", []Check{{"catalog", func(context.Context) error { return failing }}}, 200, "ok"},
		{"/metrics", nil, 200, "go_goroutines"},
		{"/metrics", nil, 200, "process_"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(New(nil).Handler(tt.checks...))
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, b, tt.code, tt.body)
		}
	}
}
