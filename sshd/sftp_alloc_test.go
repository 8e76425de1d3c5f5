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
	heapInUse := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	const sessions = 8
	before := heapInUse()
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
	after := heapInUse()
	per := float64(after-min(before, after)) / sessions / (1 << 20)
	t.Logf("%d idle SFTP sessions after 4 MiB up and down each: %.2f MiB of heap each", sessions, per)
	if per > 2 {
		t.Errorf("each idle SFTP session holds %.2f MiB, want at most 2", per)
	}
	runtime.KeepAlive(clients)
}
