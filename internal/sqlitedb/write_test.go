package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriterTx(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db)
	refused := errors.New("refused")
	for _, tt := range []struct {
		value string
		err   error // fn's error: the insert is rolled back
	}{
		{"b", nil},
		{"x", refused},
		{"a", nil},
	} {
		err := w.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?)`, tt.value); err != nil {
				return err
			}
			return tt.err
		})
		if !errors.Is(err, tt.err) {
			t.Fatalf("insert %q: %v, want %v", tt.value, err, tt.err)
		}
	}
	got, err := Strings(ctx, db, `SELECT v FROM t ORDER BY v`)
	if want := []string{"a", "b"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("rows %v, %v; want %v", got, err, want)
	}
}

func TestIsFull(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("other"), false},
		{ErrFull, true},
		{errors.Join(errors.New("x"), ErrFull), true},
	} {
		if got := IsFull(tt.err); got != tt.want {
			t.Errorf("IsFull(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
