// Package pgtest gives tests a fresh database on a real PostgreSQL server.
// scripts/test starts one server for the whole run and names it in
// SSHELF_TEST_POSTGRES (an admin URL); without it, the first test of a
// test binary starts a private server of the distribution's PostgreSQL in
// a temporary folder, run as the postgres user when the tests run as root.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgdb"
)

// EnvURL names the admin URL of a PostgreSQL server for the tests.
const EnvURL = "SSHELF_TEST_POSTGRES"

var (
	sharedOnce sync.Once
	sharedURL  string
	sharedErr  error
)

// adminURL returns the URL of a server where the tests may create
// databases.
func adminURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	sharedOnce.Do(func() {
		var s *Server
		s, sharedErr = start()
		if sharedErr == nil {
			sharedURL = s.AdminURL()
		}
	})
	if sharedErr != nil {
		Unavailable(tb, sharedErr)
	}
	return sharedURL
}

// Unavailable skips tb when no PostgreSQL can be had, or fails it under CI,
// where every backend must be tested.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("PostgreSQL: %v", err)
	}
	tb.Skipf("PostgreSQL not available: %v (set %s or install PostgreSQL)", err, EnvURL)
}

// Database returns the URL of a new, empty database for tb, dropped when tb
// ends.
func Database(tb testing.TB) string {
	tb.Helper()
	return createDatabase(tb, adminURL(tb))
}

func createDatabase(tb testing.TB, admin string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, createSQL(conn, name)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return // the server is gone: nothing to drop
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(admin, name)
}

// createSQL creates database name as a copy of template0. From
// PostgreSQL 15 on, by FILE_COPY: the default there, WAL_LOG, writes the
// whole template into the WAL, twice the server's CPU per test database.
func createSQL(conn *pgx.Conn, name string) string {
	q := "CREATE DATABASE " + name + " TEMPLATE template0"
	major, _, _ := strings.Cut(conn.PgConn().ParameterStatus("server_version"), ".")
	if v, err := strconv.Atoi(major); err == nil && v >= 15 {
		q += " STRATEGY FILE_COPY"
	}
	return q
}

// withDatabase returns admin with its database replaced by name.
func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}

// Private starts a server for tb alone, for tests that stop and restart
// it (a catalog that goes away while serving). It is stopped when tb ends.
func Private(tb testing.TB) *Server {
	tb.Helper()
	s, err := start()
	if err != nil {
		Unavailable(tb, err)
	}
	tb.Cleanup(s.Remove)
	return s
}

// NewDatabase creates a database on s for tb and returns its URL.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	return createDatabase(tb, s.AdminURL())
}

// Pool opens a pool on the database at url for tb, closed when tb ends:
// one per "server instance" in tests of several.
func Pool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgdb.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
