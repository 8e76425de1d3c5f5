// Package app wires sshelf together from its options: the data directory,
// the database, the accounts and files services, the SSH server.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/hostkeys"
	"github.com/sshelf/sshelf/internal/passhash"
	"github.com/sshelf/sshelf/internal/sqlitedb"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/sshd"
)

// Options are the settings of `sshelf serve` and `sshelf user`.
type Options struct {
	Listen      string
	Data        string
	SignupOpen  bool
	MaxFileSize int64
	Quota       int64

	Login        throttle.Policy
	FilePassword throttle.Policy

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

	Logger *slog.Logger
}

// App is an open data directory.
type App struct {
	opt      Options
	db       *sql.DB
	Accounts *auth.Accounts
	Files    *files.Service
}

// Open opens (creating if needed) the data directory.
func Open(ctx context.Context, opt Options) (*App, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opt.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	db, err := sqlitedb.Open(ctx, filepath.Join(opt.Data, "sshelf.db"))
	if err != nil {
		return nil, err
	}
	hasher := passhash.New(passhash.DefaultParams, 0)
	accounts, err := auth.Open(ctx, db, hasher, auth.Config{SignupOpen: opt.SignupOpen, Throttle: opt.Login, Logger: opt.Logger})
	if err != nil {
		db.Close()
		return nil, err
	}
	catalog, err := files.NewSQLiteCatalog(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	blobs, err := files.NewDiskBlobs(opt.Data)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := files.NewService(files.Config{
		Catalog: catalog, Blobs: blobs, Hasher: hasher,
		Limits:         files.Limits{MaxFileSize: opt.MaxFileSize, Quota: opt.Quota},
		PasswordPolicy: opt.FilePassword,
		Logger:         opt.Logger,
	})
	return &App{opt: opt, db: db, Accounts: accounts, Files: svc}, nil
}

// Close closes the database.
func (a *App) Close() error { return a.db.Close() }

// DeleteUser removes an account, its keys and its files.
func (a *App) DeleteUser(ctx context.Context, name string) (int, error) {
	if err := a.Accounts.Delete(ctx, name); err != nil {
		return 0, err
	}
	return a.Files.RemoveOwnedBy(ctx, name)
}

// Listen opens the listening socket of Options.Listen.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.opt.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Serve runs the SSH server on ln until ctx is cancelled, then shuts down
// gracefully: no new connections, transfers in flight get ShutdownGrace to
// finish, the rest are aborted.
func (a *App) Serve(ctx context.Context, ln net.Listener, tui sshd.TUIFunc) error {
	log := a.opt.Logger
	defer ln.Close()
	keys, err := hostkeys.LoadOrCreate(filepath.Join(a.opt.Data, "hostkeys"))
	if err != nil {
		return err
	}
	if err := a.Files.Recover(ctx); err != nil {
		return err
	}
	srv := sshd.New(sshd.Config{
		Files: a.Files, Accounts: a.Accounts, HostKeys: keys, Logger: log,
		IdleTimeout: a.opt.IdleTimeout, AuthTimeout: a.opt.AuthTimeout,
		MaxSessions: a.opt.MaxSessions, MaxSessionsPerUser: a.opt.MaxSessionsPerUser,
		MaxSessionsPerAddress: a.opt.MaxSessionsPerAddress, MaxConnectionsPerAddress: a.opt.MaxConnectionsPerAddress,
		MaxUnauthenticated: a.opt.MaxUnauthenticated, MaxUnauthenticatedPerAddress: a.opt.MaxUnauthenticatedPerAddress,
		TUI: tui,
	})
	for _, k := range keys {
		log.Info("host key", "type", k.PublicKey().Type(), "fingerprint", hostkeys.Fingerprint(k))
	}
	log.Info("listening", "addr", ln.Addr().String(), "data", a.opt.Data)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
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
