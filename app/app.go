// Package app wires sshelf together from its options: the data directory,
// the database, the accounts and files services, the SSH server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/internal/metrics"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/passhash"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/internal/version"
	"github.com/sshelf/sshelf/sshd"
)

// Options are the settings of `sshelf serve` and `sshelf user`.
type Options struct {
	Listen      string
	Data        string
	SignupOpen  bool
	MaxFileSize int64
	Quota       int64
	// MinFreeSpace: uploads are refused while the data directory's file
	// system has less free.
	MinFreeSpace int64

	Login        throttle.Policy
	FilePassword throttle.Policy
	// SignupsPerAddressPerHour caps the accounts open signup creates per
	// client address per hour; 0: no cap.
	SignupsPerAddressPerHour int

	MaxSessions        int
	MaxSessionsPerUser int
	IdleTimeout        time.Duration
	AuthTimeout        time.Duration
	ShutdownGrace      time.Duration

	// Per client address and before login: see sshd.Config.
	MaxSessionsPerAddress        int
	MaxUnauthenticated           int
	MaxUnauthenticatedPerAddress int
	MaxConnectionsPerAddress     int

	// PasswordHashMemory (KiB) and PasswordHashPasses set Argon2id's cost
	// for new hashes; 0: passhash.DefaultParams. Stored hashes carry their
	// own parameters, so changing these never locks anyone out.
	PasswordHashMemory uint32
	PasswordHashPasses uint32

	// HostKeys, if set, are presented instead of the keys kept under
	// DATA/hostkeys (tests give one Ed25519 key instead of generating an
	// RSA-3072 key per server).
	HostKeys []gossh.Signer

	// MetricsListen, if set, is the address of the HTTP listener for
	// /metrics, /healthz and /readyz (metrics.go).
	MetricsListen string

	// Catalog and Blobs name shared stores (stores.go): a postgres://
	// URL, an s3://BUCKET?endpoint=URL&region=R URL; "" is the embedded
	// SQLite catalog and the contents under Data.
	Catalog string
	Blobs   string
	// LookupEnv looks up the environment (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY for Blobs); nil: none.
	LookupEnv func(string) (string, bool)
	// GarbageGrace is how long a shared store keeps a replaced or removed
	// blob for downloads still reading it; 0: DefaultGarbageGrace.
	GarbageGrace time.Duration
	// Sweep sets the shared store's clean-up (files.Sweep).
	Sweep files.Sweep

	// ProxyProtocolFrom are the load balancers whose PROXY v2 headers
	// name the client (balancer.go); none: no header is read.
	ProxyProtocolFrom []netip.Prefix

	Logger *slog.Logger

	// noDataDir: do not create Data (OpenExisting on shared stores).
	noDataDir bool
}

// App is an open data directory, or a server's part of a cluster.
type App struct {
	opt      Options
	st       *stores
	Accounts *auth.Accounts
	Files    *files.Service
	metrics  *metrics.Metrics // nil without MetricsListen
	observe  ops.Observer
}

// Open opens (creating if needed) the data directory, and the shared
// catalog and blob store if Options name them (stores.go).
func Open(ctx context.Context, opt Options) (*App, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if !opt.noDataDir {
		if err := os.MkdirAll(opt.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	st, err := openStores(ctx, opt)
	if err != nil {
		return nil, err
	}
	var m *metrics.Metrics
	var hashOpts []passhash.Option
	if opt.MetricsListen != "" {
		m = metrics.New(st.stored)
		hashOpts = append(hashOpts, passhash.OnWait(m.HashWait))
	}
	hasher := passhash.New(opt.passwordHash(), 0, hashOpts...)
	// Login, signup and download-password counts live in the catalog.
	accounts := auth.New(st.accounts, hasher, auth.Config{SignupOpen: opt.SignupOpen, Throttle: opt.Login,
		SignupsPerAddressPerHour: opt.SignupsPerAddressPerHour, Attempts: st.attempts, Logger: opt.Logger})
	fcfg := files.Config{
		Catalog: st.catalog, Blobs: st.blobs, Hasher: hasher,
		SpoolDir:       st.spoolDir,
		GarbageGrace:   st.garbageGrace,
		SharedBlobs:    st.sharedBlobs,
		Instance:       st.instance,
		Sweep:          opt.Sweep,
		Limits:         files.Limits{MaxFileSize: opt.MaxFileSize, Quota: opt.Quota, MinFreeSpace: opt.MinFreeSpace},
		PasswordPolicy: opt.FilePassword,
		Attempts:       st.attempts,
		Logger:         opt.Logger,
		Owners:         accounts,
		Space:          st.space,
	}
	if st.embedded != nil {
		fcfg.Spare = st.embedded.reserve
	}
	svc := files.NewService(fcfg)
	observe := ops.LogObserver(opt.Logger)
	if m != nil {
		observe = ops.Observers(observe, m.Observe)
	}
	return &App{opt: opt, st: st, Accounts: accounts, Files: svc, metrics: m, observe: observe}, nil
}

// Close closes the stores.
func (a *App) Close() error { return a.st.close() }

// DeleteUser removes an account, its keys and its files (userdel.go).
func (a *App) DeleteUser(ctx context.Context, name string) (int, error) {
	return deleteUser(ctx, a.Accounts, a.Files, a.retryOnFull, name, deleteGrace)
}

// Unlock clears the failed logins, lockouts, signup count and
// download-password tries of target, an account name or an address. It
// acts on a running server at once: the counts are read from the catalog
// on every attempt. It returns what it cleared.
func (a *App) Unlock(ctx context.Context, target string) ([]string, error) {
	done, err := a.Accounts.Unlock(ctx, target)
	if err != nil {
		return nil, err
	}
	more, err := a.Files.Unlock(ctx, target)
	return append(done, more...), err
}

// Listen opens the listening socket of Options.Listen.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.opt.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return a.behindBalancer(ln), nil
}

// Serve runs the SSH server on ln until ctx is cancelled, then shuts down
// gracefully: no new connections, transfers in flight get ShutdownGrace to
// finish, the rest are aborted.
func (a *App) Serve(ctx context.Context, ln net.Listener, tui sshd.TUIFunc) error {
	log := a.opt.Logger
	defer ln.Close()
	keys := a.opt.HostKeys
	if len(keys) == 0 {
		var err error
		if keys, err = a.st.hostKeys(ctx); err != nil {
			return err
		}
	}
	if err := a.Files.Recover(ctx); err != nil {
		return err
	}
	if a.st.openSessions != nil {
		if err := a.st.openSessions(ctx); err != nil {
			return err
		}
	}
	// Heartbeats and the shared clean-up, with a cluster's stores.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan struct{})
	go func() { defer close(ran); a.Files.Run(runCtx) }()
	defer func() { stopRun(); <-ran }()
	srv := sshd.New(sshd.Config{
		Files: a.Files, Accounts: a.Accounts, HostKeys: keys, Logger: log,
		IdleTimeout: a.opt.IdleTimeout, AuthTimeout: a.opt.AuthTimeout,
		MaxSessions: a.opt.MaxSessions, MaxSessionsPerUser: a.opt.MaxSessionsPerUser,
		MaxSessionsPerAddress: a.opt.MaxSessionsPerAddress, MaxConnectionsPerAddress: a.opt.MaxConnectionsPerAddress,
		MaxUnauthenticated: a.opt.MaxUnauthenticated, MaxUnauthenticatedPerAddress: a.opt.MaxUnauthenticatedPerAddress,
		TUI: tui, Observe: a.observe, Hooks: a.hooks(),
		SessionCounter: a.st.sessions,
	})
	// Before "listening": whoever waits for that line finds the metrics up.
	stopMetrics, err := a.serveMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()

	for _, k := range keys {
		log.Info("host key", "type", k.PublicKey().Type(), "fingerprint", hostkeys.Fingerprint(k))
	}
	log.Info("listening", append([]any{"addr", ln.Addr().String(), "data", a.opt.Data, "version", version.Get().Short()}, a.st.describe()...)...)
	if a.opt.SignupOpen && a.opt.Quota == 0 && !loopback(ln.Addr()) {
		log.Warn("open signup on an address others can reach, with no quota: anyone who reaches the port can store files until the disk is full; set --quota, or --signup closed")
	}

	// gliderlabs/ssh's Shutdown must not run before its Serve has taken
	// the listener: it would not close it (Serve would wait in Accept for
	// ever) and races on the listener count. Serve takes it before its
	// first Accept, which firstAccept reports.
	accepting := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(&firstAccept{Listener: ln, accepting: accepting}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-errc:
		return err
	case <-accepting:
	}
	log.Info("shutting down", "grace", a.opt.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.opt.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", "err", err)
	}
	<-errc
	log.Info("stopped")
	return nil
}

// firstAccept closes accepting when Accept is first called.
type firstAccept struct {
	net.Listener
	accepting chan struct{}
	once      sync.Once
}

func (l *firstAccept) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	return l.Listener.Accept()
}

// loopback reports whether addr is reachable from this machine only.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// passwordHash returns the Argon2id parameters for new hashes.
func (o Options) passwordHash() passhash.Params {
	p := passhash.DefaultParams
	if o.PasswordHashMemory > 0 {
		p.Memory = o.PasswordHashMemory
	}
	if o.PasswordHashPasses > 0 {
		p.Time = o.PasswordHashPasses
	}
	return p
}
