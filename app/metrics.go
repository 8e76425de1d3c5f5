package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sshelf/sshelf/internal/metrics"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/sshd"
)

// Observer is what every way in reports its operations to: the audit log,
// and the metrics with MetricsListen. Give it to the TUI.
func (a *App) Observer() ops.Observer { return a.observe }

// hooks is what sshd tells of logins and sessions: nil without metrics.
func (a *App) hooks() sshd.Hooks {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

// serveMetrics starts the HTTP listener of MetricsListen, if set; stop
// shuts it down.
func (a *App) serveMetrics() (stop func(), err error) {
	if a.metrics == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.opt.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.metrics.Handler(a.readyChecks()...),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	a.opt.Logger.Info("metrics listening", "addr", ln.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.opt.Logger.Warn("metrics", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// readyChecks are what /readyz asks: the stores' own questions.
func (a *App) readyChecks() []metrics.Check { return a.st.ready }

// readyChecks of the embedded stores: the catalog (its file still where
// it was opened, and a query answered) and the blob store (its folder
// there, its file system's free space readable). An open SQLite connection
// keeps reading a database file removed under it, so the path is checked
// too.
func (e *embeddedStores) readyChecks(data string) []metrics.Check {
	dbPath := filepath.Join(data, "sshelf.db")
	return []metrics.Check{
		{Name: "catalog", Ask: func(ctx context.Context) error {
			if _, err := os.Stat(dbPath); err != nil {
				return err
			}
			_, _, err := e.catalog.Stored(ctx)
			return err
		}},
		{Name: "blob store", Ask: func(ctx context.Context) error {
			if _, err := os.Stat(filepath.Join(data, "blobs")); err != nil {
				return err
			}
			_, err := e.disk.FreeSpace(ctx)
			return err
		}},
	}
}
