package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/filestest"
	"github.com/sshelf/sshelf/internal/pgtest"
)

// The conformance suite runs on a database with a language's collation,
// where only the schema's COLLATE "C" keeps listings in byte order.
func TestConformance(t *testing.T) {
	t.Parallel()
	filestest.TestCatalog(t, func(t *testing.T) files.Catalog { return openCatalog(t, localeDatabase(t)) })
}

// The locale database does order names differently from bytes, so the
// suite's byte-order tests prove something there.
func TestLocaleDatabaseOrdersByLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openPool(t, localeDatabase(t))
	rows, err := pool.Query(ctx, `SELECT n FROM unnest(ARRAY['Zebra', 'ab', 'aB', 'a b']) n ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if rows.Err() != nil || slices.IsSorted(got) {
		t.Fatalf("the locale database sorts %q in byte order (%v): it proves nothing", got, rows.Err())
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	filestest.TestCluster(t, func(t *testing.T) (files.Cluster, files.Cluster) {
		url := pgtest.Database(t)
		return openCatalog(t, url), openCatalog(t, url)
	})
}
