package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sshelf/sshelf/internal/pgtest"
)

// openPool opens a pool of its own onto url, as one server instance does.
func openPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, url)
}

func openCatalog(t testing.TB, url string) *Catalog {
	t.Helper()
	c, err := New(context.Background(), openPool(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCatalog(t testing.TB) *Catalog {
	t.Helper()
	return openCatalog(t, pgtest.Database(t))
}

// localeDatabase returns the URL of a new database whose default collation
// is a language's (ICU's en-US), where byte order and the collation's order
// differ ("a b" < "aB" < "ab" < "Zebra" there): what a production server
// set up with a locale has, and what COLLATE "C" guards against. The test
// servers run without a locale, so their ordinary databases would not tell.
func localeDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := pgtest.Database(t)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "l" + strings.TrimPrefix(dbName(t, base), "t")
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name+
		" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
	if err != nil {
		t.Skipf("no ICU collation on the test server: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

func dbName(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
