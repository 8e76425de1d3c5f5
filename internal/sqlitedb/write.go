package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// ErrFull is a write that found the disk (or the database) full. A
// write transaction's error wraps it, so a store maps one sentinel.
var ErrFull = errors.New("database or disk is full")

// Writer runs one store's write transactions on a database, queued on a
// mutex: SQLite allows one writer at a time anyway, and waiting here is
// FIFO-fair, where SQLite's busy handler polls with sleeps of up to 100 ms
// and can starve a writer under load. Other processes (`sshelf user ...`)
// still meet busy_timeout. Reads go to the *sql.DB directly.
type Writer struct {
	db *sql.DB
	mu sync.Mutex
}

// NewWriter returns a Writer on db.
func NewWriter(db *sql.DB) *Writer { return &Writer{db: db} }

// DB is the database written to.
func (w *Writer) DB() *sql.DB { return w.db }

// Tx runs fn in a write transaction (BEGIN IMMEDIATE, see Open) and
// commits it if fn returns nil; otherwise it rolls back and returns fn's
// error. A full disk comes back wrapping ErrFull.
func (w *Writer) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.tx(ctx, fn)
	if err != nil && !errors.Is(err, ErrFull) && IsFull(err) {
		return fmt.Errorf("%w (%w)", ErrFull, err)
	}
	return err
}

func (w *Writer) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Queryer is a *sql.DB or a *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Strings runs query, whose rows are one text column, and returns them.
func Strings(ctx context.Context, q Queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
