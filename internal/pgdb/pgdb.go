// Package pgdb opens the PostgreSQL catalog that servers of a cluster share
// and keeps its schema: each package that stores something there (files,
// accounts, throttles, host keys) brings its own migrations, embedded in
// the binary and applied at start under an advisory lock, so that
// instances starting at once do not race.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IsURL reports whether a --catalog value names PostgreSQL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL without its password, for errors and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// connectTimeout bounds the first connection when the URL sets none, so
// an unreachable catalog is an error at start instead of a hang.
const connectTimeout = 10 * time.Second

// Open connects to the catalog at raw and checks that it answers.
func Open(ctx context.Context, raw string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", Redact(raw), err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if cfg.MaxConns < 16 && !strings.Contains(raw, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", Redact(raw), err)
	}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("catalog %s unreachable: %w", Redact(raw), err)
	}
	return pool, nil
}

// IsUnique reports whether err is a unique-constraint violation.
func IsUnique(err error) bool { return hasCode(err, "23505") }

// IsRetryable reports whether err is a serialization failure or a
// deadlock: the transaction may be run again.
func IsRetryable(err error) bool { return hasCode(err, "40001") || hasCode(err, "40P01") }

func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
