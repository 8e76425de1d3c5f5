package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/auth/authtest"
	"github.com/sshelf/sshelf/auth/postgres"
	"github.com/sshelf/sshelf/internal/pgtest"
)

func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Pool(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	authtest.TestStore(t, func(t *testing.T) auth.Store {
		return open(t, pgtest.Database(t))
	})
}

// Servers sharing the catalog (two pools, each migrating at start) create
// one name once: of concurrent creates exactly one reports created.
func TestCreateAcrossPools(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	stores := make([]*postgres.Store, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i] = open(t, url) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const rounds, perPool = 5, 4
	for r := range rounds {
		name := fmt.Sprint("user", r)
		created := make(chan int, 2*perPool)
		for i := range 2 * perPool {
			wg.Go(func() {
				ok, err := stores[i%2].Create(ctx, name, fmt.Sprint("hash-", i), time.Now())
				if err != nil {
					t.Error(err)
				}
				if ok {
					created <- i
				}
			})
		}
		wg.Wait()
		close(created)
		var winners []int
		for i := range created {
			winners = append(winners, i)
		}
		if len(winners) != 1 {
			t.Fatalf("%s: creates %v all reported created, want exactly one", name, winners)
		}
		// Both servers see the winner's account.
		for i, s := range stores {
			acc, err := s.Account(ctx, name)
			if err != nil || acc.PasswordHash != fmt.Sprint("hash-", winners[0]) {
				t.Errorf("pool %d: Account(%s) = %+v, %v; want the winner's hash", i, name, acc, err)
			}
		}
	}
}
