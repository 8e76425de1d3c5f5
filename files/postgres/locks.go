package postgres

import (
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Advisory lock keys are 64-bit hashes of a name in a namespace, so that a
// file named like an owner, or like a cluster lock, takes a different key.
// Two names whose keys collide only wait for each other.
const (
	nsName    = "files.name"
	nsOwner   = "files.owner"
	nsCluster = "files.cluster"
)

func lockKey(namespace, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(namespace))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

const lockSQL = `SELECT pg_advisory_xact_lock($1)`

// queueLocks queues, in b, the transaction-level advisory locks that
// serialise writers of the catalog: the owner whose usage a check reads
// (if any) first, then the names, in byte order. Every writer takes them
// in that order, so writers cannot deadlock on them. Queued before the
// reads, they are held before the reads' statements begin, so the reads
// see what earlier holders committed.
//
// It returns how many it queued, whose results the caller reads first.
func queueLocks(b *pgx.Batch, owner string, names ...string) int {
	n := 0
	if owner != "" {
		b.Queue(lockSQL, lockKey(nsOwner, owner))
		n++
	}
	names = slices.Clone(names)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		b.Queue(lockSQL, lockKey(nsName, name))
		n++
	}
	return n
}

// awaitLocks reads the results of n queued locks.
func awaitLocks(br pgx.BatchResults, n int) error {
	for range n {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}
