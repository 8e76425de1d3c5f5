// Package metrics counts what sshelf does for Prometheus, on a registry of
// its own: operations and bytes from the same ops.Event the audit log
// writes, logins and sessions from sshd's hooks, the password-hash queue
// wait, and what the catalog holds, asked at scrape time.
package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
)

// StoredFunc returns how many files the catalog holds and their bytes.
type StoredFunc func(ctx context.Context) (count, bytes int64, err error)

// Metrics is one server's metrics and their registry.
type Metrics struct {
	reg       *prometheus.Registry
	ops       *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	sessions  *prometheus.GaugeVec
	hashWait  prometheus.Histogram
	stored    StoredFunc
	scrapeCap time.Duration
}

// New registers sshelf's metrics, the Go runtime's and the process's on a
// new registry. stored may be nil (no stored-files metrics).
func New(stored StoredFunc) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshelf_operations_total",
			Help: "Operations done or refused, by way in, command and result (ok or the error kind).",
		}, []string{"transport", "command", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshelf_transfer_bytes_total",
			Help: "File content bytes uploaded (up) and downloaded (down).",
		}, []string{"direction", "transport"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sshelf_operation_duration_seconds",
			Help:    "How long operations took, by way in and command.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1 ms to about 4 min
		}, []string{"transport", "command"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshelf_logins_total",
			Help: "Login attempts by method and result (ok, denied, locked, signup-limited, error).",
		}, []string{"method", "result"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sshelf_login_lockouts_total",
			Help: "Logins refused by a throttle lockout, by what is blocked (address, account, signup).",
		}, []string{"blocked"}),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sshelf_sessions_active",
			Help: "Sessions open now, by way in.",
		}, []string{"transport"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sshelf_password_hash_wait_seconds",
			Help:    "How long a password check waited for a hashing slot.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		stored:    stored,
		scrapeCap: 5 * time.Second,
	}
	m.reg.MustRegister(m.ops, m.bytes, m.duration, m.logins, m.refusals, m.sessions, m.hashWait,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stored != nil {
		m.reg.MustRegister(&storedCollector{m: m})
	}
	for _, t := range []string{"exec", "sshelf", "sftp", "scp", "tui"} {
		m.sessions.WithLabelValues(t) // present at 0 before the first session
	}
	return m
}

// Registry is where the metrics are registered, for the /metrics handler.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe counts one operation: give it to ops via Observers with the
// audit log's observer, so both see the same events.
func (m *Metrics) Observe(_ context.Context, e ops.Event) {
	result := "ok"
	if e.Err != nil {
		result = string(files.KindOf(e.Err))
	}
	command := commandLabel(e.Command)
	m.ops.WithLabelValues(e.Transport, command, result).Inc()
	m.duration.WithLabelValues(e.Transport, command).Observe(e.Elapsed.Seconds())
	if dir := direction(e.Command); dir != "" && e.Bytes > 0 {
		m.bytes.WithLabelValues(dir, e.Transport).Add(float64(e.Bytes))
	}
}

// transportOps are the operations SFTP and scp report that are no
// command of the table.
var transportOps = map[string]bool{"rename": true, "setstat": true, "scp": true, "sftp": true}

// commandLabel is command as a label value: a client chooses the command
// word, and each value is a series kept for the life of the process, so
// anything but a known command is "other".
func commandLabel(command string) string {
	if _, ok := ops.Lookup(command); ok || transportOps[command] {
		return command
	}
	return "other"
}

// direction is whether command moves content up, down or not at all ("").
func direction(command string) string {
	switch command {
	case "put":
		return "up"
	case "get":
		return "down"
	}
	return ""
}

// Login counts one login attempt by method; err nil: logged in.
func (m *Metrics) Login(method string, err error) {
	result := "ok"
	var r *auth.Refusal
	switch {
	case err == nil:
	case errors.As(err, &r):
		result = "locked"
		if r.Blocked == auth.BlockedSignup {
			result = "signup-limited"
		}
		m.refusals.WithLabelValues(r.Blocked).Inc()
	case errors.Is(err, auth.ErrLocked):
		result = "locked"
		m.refusals.WithLabelValues("unknown").Inc()
	case errors.Is(err, auth.ErrDenied), errors.Is(err, auth.ErrNoAccount), errors.Is(err, auth.ErrBadUsername):
		result = "denied"
	default:
		result = "error"
	}
	m.logins.WithLabelValues(method, result).Inc()
}

// SessionStarted counts a session of transport as active until end.
func (m *Metrics) SessionStarted(transport string) (end func()) {
	g := m.sessions.WithLabelValues(transport)
	g.Inc()
	return g.Dec
}

// HashWait records a password check's wait for its slot (passhash.OnWait).
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// storedCollector asks the catalog at scrape time.
type storedCollector struct{ m *Metrics }

var (
	filesStoredDesc = prometheus.NewDesc("sshelf_files_stored", "Files in the catalog.", nil, nil)
	bytesStoredDesc = prometheus.NewDesc("sshelf_stored_bytes", "Bytes of the files in the catalog.", nil, nil)
)

func (c *storedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- filesStoredDesc
	ch <- bytesStoredDesc
}

func (c *storedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.m.scrapeCap)
	defer cancel()
	n, b, err := c.m.stored(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(filesStoredDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(filesStoredDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(bytesStoredDesc, prometheus.GaugeValue, float64(b))
}
