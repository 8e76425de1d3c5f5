package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
)

// sortedCatalog returns a catalog holding n records, every third hidden,
// inserted in one transaction (the test is about reading).
func sortedCatalog(t *testing.T, n int, name func(i int) string) (*Catalog, []files.File) {
	t.Helper()
	ctx := context.Background()
	c := newCatalog(t)
	var public []files.File
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := c.tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			r := files.Record{File: files.File{
				Name: name(i), Owner: "o", Size: int64((i * 7919) % 50), // many equal sizes
				Hidden: i%3 == 0, SHA256: "00", Uploaded: base.Add(time.Duration((i*104729)%97) * time.Second),
			}, Blob: fmt.Sprint("b", i)}
			if err := upsert(ctx, tx, r); err != nil {
				return err
			}
			if !r.Hidden {
				public = append(public, r.File)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, public
}
