package filestest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sshelf/sshelf/files"
)

// NewCluster returns two handles onto one new shared catalog, as two
// server instances hold them (each with its own connections), cleaned up
// with t.
type NewCluster func(t *testing.T) (a, b files.Cluster)

// TestCluster checks a Cluster's semantics: heartbeats and the live
// instances they show, and locks that one holder at a time has.
func TestCluster(t *testing.T, open NewCluster) {
	for _, tt := range []struct {
		name string
		test func(t *testing.T, a, b files.Cluster)
	}{
		{"Heartbeat", testHeartbeat},
		{"LockExclusive", testLockExclusive},
		{"LockRelease", testLockRelease},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.test(t, a, b)
		})
	}
}

func wantAlive(t *testing.T, c files.Cluster, since time.Time, want ...string) {
	t.Helper()
	got, err := c.Alive(context.Background(), since)
	if err != nil {
		t.Fatalf("alive since %v: %v", since, err)
	}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, want) {
		t.Fatalf("alive since %v: %v, want %v", since, names, want)
	}
}

func testHeartbeat(t *testing.T, a, b files.Cluster) {
	ctx := context.Background()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	wantAlive(t, a, time.Time{})
	if err := a.Heartbeat(ctx, "one", t0); err != nil {
		t.Fatal(err)
	}
	if err := b.Heartbeat(ctx, "two", t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Each instance sees the other's heartbeats; "at or after" is exact.
	wantAlive(t, a, t0, "one", "two")
	wantAlive(t, b, t0, "one", "two")
	wantAlive(t, b, t0.Add(time.Nanosecond), "two")
	wantAlive(t, a, t0.Add(10*time.Second), "two")
	wantAlive(t, a, t0.Add(11*time.Second))
	// A later heartbeat replaces the earlier one.
	if err := a.Heartbeat(ctx, "one", t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	wantAlive(t, b, t0.Add(15*time.Second), "one")
}

func tryLock(t *testing.T, c files.Cluster, name string) (func(), bool) {
	t.Helper()
	release, ok, err := c.TryLock(context.Background(), name)
	if err != nil {
		t.Fatalf("lock %s: %v", name, err)
	}
	if ok != (release != nil) {
		t.Fatalf("lock %s: ok %v with release %v", name, ok, release != nil)
	}
	return release, ok
}

// testLockExclusive: a lock has one holder at a time, the other instance
// and the holder's own catalog alike; other names are independent.
func testLockExclusive(t *testing.T, a, b files.Cluster) {
	release, ok := tryLock(t, a, "gc")
	if !ok {
		t.Fatal("a free lock was refused")
	}
	defer release()
	if r, ok := tryLock(t, b, "gc"); ok {
		r()
		t.Fatal("the other instance took a held lock")
	}
	if r, ok := tryLock(t, a, "gc"); ok {
		r()
		t.Fatal("a held lock was taken again through the holder's catalog")
	}
	other, ok := tryLock(t, b, "other")
	if !ok {
		t.Fatal("a lock of another name was refused")
	}
	other()
}

// testLockRelease: release lets the other instance take the lock; a
// second release is harmless and does not free the new holder's lock.
func testLockRelease(t *testing.T, a, b files.Cluster) {
	release, ok := tryLock(t, a, "gc")
	if !ok {
		t.Fatal("a free lock was refused")
	}
	release()
	rb, ok := tryLock(t, b, "gc")
	if !ok {
		t.Fatal("a released lock stayed taken")
	}
	release()
	if r, ok := tryLock(t, a, "gc"); ok {
		r()
		t.Fatal("a second release freed the new holder's lock")
	}
	rb()
	ra, ok := tryLock(t, a, "gc")
	if !ok {
		t.Fatal("the lock did not come back")
	}
	ra()
}
