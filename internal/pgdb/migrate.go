package pgdb

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrateLock is the advisory lock key under which migrations run.
const migrateLock = 0x7373_6865_6c66 // "sshelf"

// Migrate applies component's migrations that the catalog has not seen:
// the files NNN_*.sql at the top of fsys, in number order, each in its own
// transaction with its record in schema_migrations. It holds a session
// advisory lock meanwhile, so of instances starting at once one migrates
// and the others wait, then find nothing left to do.
func Migrate(ctx context.Context, pool *pgxpool.Pool, component string, fsys fs.FS) error {
	steps, err := migrations(fsys)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate %s: lock: %w", component, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component text NOT NULL,
		version int NOT NULL,
		applied timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1",
		component).Scan(&have); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	for _, s := range steps {
		if s.version <= have {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)", component, s.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s to %s: %w", component, s.name, err)
		}
	}
	return nil
}

type step struct {
	version int
	name    string
	sql     string
}

func migrations(fsys fs.FS) ([]step, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var steps []step
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(steps, func(a, b step) int { return a.version - b.version })
	for i := 1; i < len(steps); i++ {
		if steps[i].version == steps[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a number", steps[i-1].name, steps[i].name)
		}
	}
	return steps, nil
}
