package sshd_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/testkit"
)

// An SFTP session that has moved data and then sits idle keeps what
// pkg/sftp's allocator has handed out at once (sshd/sftp.go), which the
// guard's cap on requests in flight bounds: clients that pipeline many
// large requests must not make every idle session hold megabytes.
// Client and server share the process, so the figure covers both ends.
func TestSFTPIdleSessionsHoldLittle(t *testing.T) {
	srv := apptest.Start(t, nil)
	content := testkit.RandBytes(t, 4<<20)
	const sessions = 8
	before := heapInUse(t)
	clients := make([]*sftp.Client, sessions)
	for i := range clients {
		c := sftpClientOpts(t, srv, "alice", "pw-a", nil, sftp.MaxPacketUnchecked(255<<10),
			sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true), sftp.MaxConcurrentRequestsPerFile(64))
		name := fmt.Sprintf("idle%d", i)
		sftpPut(t, c, name, content)
		got, err := sftpGet(c, name)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("get %s: %d bytes, %v", name, len(got), err)
		}
		clients[i] = c
	}
	after := heapInUse(t)
	per := float64(after-min(before, after)) / sessions / (1 << 20)
	t.Logf("%d idle SFTP sessions after 4 MiB up and down each: %.2f MiB of heap each", sessions, per)
	if per > 2 {
		t.Errorf("each idle SFTP session holds %.2f MiB, want at most 2", per)
	}
	runtime.KeepAlive(clients)
}

// Every kind of request gives its page back when it is answered, refusals
// included: a long session of listings, stats, uploads, downloads, renames
// and refused requests holds what a short one does.
func TestSFTPSessionPagesDoNotGrow(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := sftpClientOpts(t, srv, "alice", "pw-a", nil, sftp.MaxPacketUnchecked(255<<10))
	content := testkit.RandBytes(t, 600<<10)
	round := func(i int) {
		name := fmt.Sprintf("grow%d", i)
		sftpPut(t, c, name, content)
		if got, err := sftpGet(c, name); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("get %s: %d bytes, %v", name, len(got), err)
		}
		if _, err := c.Stat(name); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadDir("."); err != nil {
			t.Fatal(err)
		}
		if err := c.Rename(name, name+".b"); err != nil {
			t.Fatal(err)
		}
		// Refusals and unsupported requests.
		if _, err := c.Stat("missing"); err == nil {
			t.Fatal("stat of a missing file succeeded")
		}
		if err := c.Mkdir("dir"); err == nil {
			t.Fatal("mkdir succeeded")
		}
		if _, err := c.ReadLink(name + ".b"); err == nil {
			t.Fatal("readlink succeeded")
		}
		if _, err := c.StatVFS("/"); err == nil {
			t.Fatal("statvfs succeeded")
		}
		if _, err := c.Open("missing"); err == nil {
			t.Fatal("open of a missing file succeeded")
		}
		if _, err := c.Getwd(); err != nil {
			t.Fatal(err)
		}
		if err := c.Remove(name + ".b"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		round(i)
	}
	before := heapInUse(t)
	const rounds = 40
	for i := range rounds {
		round(5 + i)
	}
	after := heapInUse(t)
	grew := float64(after-min(before, after)) / (1 << 20)
	t.Logf("%d more rounds of every request in one session: heap grew %.2f MiB", rounds, grew)
	if grew > 1 {
		t.Errorf("heap grew %.2f MiB over %d rounds in one session: pages are not given back", grew, rounds)
	}
}

// heapInUse is the heap in use after collecting garbage.
func heapInUse(t *testing.T) uint64 {
	t.Helper()
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
