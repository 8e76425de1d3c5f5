package files

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sshelf/sshelf/internal/testkit"
)

func TestCheck(t *testing.T) {
	flip := func(t *testing.T, e *testEnv, name string) {
		p := e.blobPath(t, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	truncate := func(t *testing.T, e *testEnv, name string) {
		if err := os.Truncate(e.blobPath(t, name), 3); err != nil {
			t.Fatal(err)
		}
	}
	grow := func(t *testing.T, e *testEnv, name string) {
		f, err := os.OpenFile(e.blobPath(t, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("x"))
		f.Close()
	}
	remove := func(t *testing.T, e *testEnv, name string) {
		if err := os.Remove(e.blobPath(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	orphan := func(t *testing.T, e *testEnv, _ string) {
		commitBlob(t, e.blobs, "nobody's")
	}
	const later = 2 * time.Hour // the clock of an orphan old enough to remove

	tests := []struct {
		name     string
		damage   func(*testing.T, *testEnv, string) // applied to "b.bin"
		remove   bool
		clock    time.Duration // how far Check's clock runs ahead
		want     []ProblemKind
		detail   string // in the problem's Detail
		ok       bool
		blobs    int // blob files left
		removed  int
		youngOrp bool
	}{
		{name: "clean", ok: true, blobs: 3},
		{name: "byte flipped", damage: flip, want: []ProblemKind{Corrupt}, detail: "sha256 ", blobs: 3},
		{name: "truncated", damage: truncate, want: []ProblemKind{Corrupt}, detail: "content is 3 bytes, recorded 4096", blobs: 3},
		{name: "grown", damage: grow, want: []ProblemKind{Corrupt}, detail: "longer than the recorded 4096", blobs: 3},
		{name: "missing", damage: remove, want: []ProblemKind{Missing}, blobs: 2},
		{name: "orphan kept without the flag", damage: orphan, clock: later, want: []ProblemKind{Orphan}, ok: true, blobs: 4},
		{name: "young orphan kept with the flag", damage: orphan, remove: true, want: []ProblemKind{Orphan}, ok: true, blobs: 4, youngOrp: true},
		{name: "old orphan removed with the flag", damage: orphan, remove: true, clock: later, want: []ProblemKind{Orphan}, ok: true, blobs: 3, removed: 1},
		{name: "clean, flag given", remove: true, clock: later, ok: true, blobs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustPut(t, "alice", PutOptions{Name: "a.txt"}, []byte("hello"))
			e.mustPut(t, "alice", PutOptions{Name: "b.bin", Hidden: true}, testkit.RandBytes(t, 4096))
			e.mustPut(t, "bob", PutOptions{Name: "日本語.txt"}, []byte(""))
			if tt.damage != nil {
				tt.damage(t, e, "b.bin")
			}
			e.svc.now = func() time.Time { return time.Now().Add(tt.clock) }
			var got []Problem
			sum, err := e.svc.Check(context.Background(), CheckOptions{
				RemoveOrphans: tt.remove, OrphanGrace: DefaultOrphanGrace,
				Report: func(p Problem) { got = append(got, p) },
			})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems %+v, want kinds %v", got, tt.want)
			}
			for i, p := range got {
				if p.Kind != tt.want[i] {
					t.Errorf("problem %d: %+v, want kind %s", i, p, tt.want[i])
				}
				if p.Kind != Orphan && p.Name != "b.bin" {
					t.Errorf("problem %d names %q, want b.bin", i, p.Name)
				}
				if !strings.Contains(p.Detail, tt.detail) {
					t.Errorf("problem %d detail %q, want it to contain %q", i, p.Detail, tt.detail)
				}
				if p.Kind == Orphan && (p.Young != tt.youngOrp || p.Removed != (tt.removed > 0)) {
					t.Errorf("orphan %+v: want young %v, removed %v", p, tt.youngOrp, tt.removed > 0)
				}
			}
			if sum.OK() != tt.ok {
				t.Errorf("summary %v: OK() = %v, want %v", sum, sum.OK(), tt.ok)
			}
			if sum.Files != 3 || sum.Removed != tt.removed {
				t.Errorf("summary %+v: want 3 files, %d removed", sum, tt.removed)
			}
			if tt.damage == nil && sum.Bytes != 5+4096 {
				t.Errorf("summary %+v: want %d bytes", sum, 5+4096)
			}
			e.assertBlobCount(t, tt.blobs)
		})
	}
}

func TestCheckSummaryLine(t *testing.T) {
	s := CheckSummary{Files: 3, Bytes: 4101, Corrupt: 1, Missing: 2, Orphans: 1}
	if got, want := s.String(), "checked 3 files, 4101 bytes: 1 corrupt, 2 missing, 1 orphans"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// A file replaced while Check runs is not reported missing: its old
// content went with the old record, and the new one is checked instead.
func TestCheckFileReplacedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "a.txt"}, []byte("v1"))
	r, err := e.catalog.Lookup(context.Background(), "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	e.mustPut(t, "alice", PutOptions{Name: "a.txt"}, []byte("v2"))
	c := &checker{s: e.svc, buf: make([]byte, 64)}
	if err := c.file(context.Background(), r); err != nil { // r is the stale record
		t.Fatal(err)
	}
	if c.sum.Missing != 0 || c.sum.Corrupt != 0 || c.sum.Files != 1 || c.sum.Bytes != 2 {
		t.Errorf("stale record: %+v, want the new version checked, no problem", c.sum)
	}
	// Removed since the page was read: skipped.
	if err := e.svc.Remove(context.Background(), "alice", "a.txt"); err != nil {
		t.Fatal(err)
	}
	c = &checker{s: e.svc, buf: make([]byte, 64)}
	if err := c.file(context.Background(), r); err != nil || c.sum != (CheckSummary{}) {
		t.Errorf("removed record: %v, %+v, want nothing counted", err, c.sum)
	}
}

func TestCheckCancelled(t *testing.T) {
	e := newEnv(t)
	e.mustPut(t, "alice", PutOptions{Name: "a.txt"}, []byte("hello"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.Check(ctx, CheckOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context: %v, want context.Canceled", err)
	}
}

// An orphan's age counts from its commit (a rename, which sets the change
// time), not from its last write: an upload written long ago and committed
// a moment ago may be about to get its record.
func TestCheckOrphanAgeIsCommitTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the change time is read on Linux only")
	}
	e := newEnv(t)
	e.requireDiskStore(t)
	key := commitBlob(t, e.blobs, "written long ago")
	p, err := e.blobFile(key)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * DefaultOrphanGrace)
	if err := os.Chtimes(p, old, old); err != nil { // sets the change time to now
		t.Fatal(err)
	}
	sum, err := e.svc.Check(context.Background(), CheckOptions{RemoveOrphans: true, OrphanGrace: DefaultOrphanGrace})
	if err != nil || sum.Orphans != 1 || sum.Removed != 0 {
		t.Errorf("Check: %+v, %v, want 1 orphan kept", sum, err)
	}
	e.assertBlobCount(t, 1)
}
