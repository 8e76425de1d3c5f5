package files

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/sshelf/sshelf/internal/testkit"
)

// An upload counts against the size limit and the quota as it grows, on
// every write, with the account's other open uploads; a truncate never
// makes it longer (issue 10: a truncate to 4 GiB made the server hash 4 GiB
// of zeros at Commit).
func TestUploadGrowth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const quota = 100
	type env struct {
		*testEnv
		t *testing.T
	}
	create := func(e env, name string, size int64) *Upload {
		e.t.Helper()
		u, err := e.svc.Create(ctx, "alice", PutOptions{Name: name, Size: size})
		if err != nil {
			e.t.Fatalf("Create %s: %v", name, err)
		}
		e.t.Cleanup(func() { u.Abort() })
		return u
	}
	write := func(u *Upload, n int, off int64) error {
		_, err := u.WriteAt(make([]byte, n), off)
		return err
	}
	tests := []struct {
		name   string
		limits Limits
		// do runs the case and returns the error under test; stored is
		// what alice holds beforehand.
		stored  int64
		do      func(e env) error
		wantErr error
		// wantHeld is the quota the open uploads hold after do.
		wantHeld int64
	}{
		{"truncate past the bytes written", Limits{}, 0, func(e env) error {
			u := create(e, "f", -1)
			must(e.t, write(u, 10, 0))
			return u.Truncate(4 << 30)
		}, ErrTruncateGrow, 0},
		{"truncate past the end of a gap", Limits{}, 0, func(e env) error {
			u := create(e, "f", -1)
			must(e.t, write(u, 10, 100))
			return u.Truncate(111)
		}, ErrTruncateGrow, 0},
		{"truncate to the end of what was written (scp)", Limits{}, 0, func(e env) error {
			u := create(e, "f", -1)
			must(e.t, write(u, 10, 0))
			return u.Truncate(10)
		}, nil, 0},
		{"truncate an empty upload to zero", Limits{}, 0, func(e env) error {
			return create(e, "f", -1).Truncate(0)
		}, nil, 0},
		{"write at a huge offset, no limits", Limits{}, 0, func(e env) error {
			return write(create(e, "f", -1), 1, math.MaxInt64)
		}, ErrTooLarge, 0},
		{"write ending past the largest offset", Limits{}, 0, func(e env) error {
			return write(create(e, "f", -1), 2, math.MaxInt64-1)
		}, ErrTooLarge, 0},
		{"write at a huge offset past the size limit", Limits{MaxFileSize: 1 << 20}, 0, func(e env) error {
			return write(create(e, "f", -1), 1, 4<<30)
		}, ErrTooLarge, 0},
		{"write at a huge offset past the quota", Limits{Quota: quota}, 0, func(e env) error {
			return write(create(e, "f", -1), 1, 4<<30)
		}, ErrQuota, 0},
		{"writes hold the quota as they grow", Limits{Quota: quota}, 0, func(e env) error {
			u := create(e, "f", -1)
			must(e.t, write(u, 10, 0))
			return write(u, 10, 30) // a gap counts: the length is what it holds
		}, nil, 40},
		{"a zero-length write far out holds nothing", Limits{Quota: quota}, 0, func(e env) error {
			return write(create(e, "f", -1), 0, 4<<30)
		}, nil, 0},
		{"a declared size is held at Create", Limits{Quota: quota}, 0, func(e env) error {
			create(e, "f", 60)
			_, err := e.svc.Create(ctx, "alice", PutOptions{Name: "g", Size: 41})
			return err
		}, ErrQuota, 60},
		{"two uploads share the room", Limits{Quota: quota}, 30, func(e env) error {
			a, b := create(e, "f", -1), create(e, "g", -1)
			must(e.t, write(a, 40, 0))
			must(e.t, write(b, 30, 0)) // 30 + 40 + 30 = 100
			return write(b, 1, 30)
		}, ErrQuota, 70},
		{"an aborted upload gives its room back", Limits{Quota: quota}, 0, func(e env) error {
			a := create(e, "f", -1)
			must(e.t, write(a, 90, 0))
			a.Abort()
			return write(create(e, "g", -1), 100, 0)
		}, nil, 100},
		{"a truncate gives room back", Limits{Quota: quota}, 0, func(e env) error {
			a := create(e, "f", -1)
			must(e.t, write(a, 90, 0))
			must(e.t, a.Truncate(20))
			return write(create(e, "g", -1), 80, 0)
		}, nil, 100},
		{"a replace counts what it adds to the old size", Limits{Quota: quota}, 60, func(e env) error {
			// The stored file is "s" (60 bytes): replacing it may grow to
			// 100, less what another upload holds.
			other := create(e, "g", -1)
			must(e.t, write(other, 10, 0))
			r := create(e, "s", -1)
			must(e.t, write(r, 90, 0))
			return write(r, 1, 90)
		}, ErrQuota, 40},
		{"a shrinking replace frees nothing before it commits", Limits{Quota: quota}, 60, func(e env) error {
			r := create(e, "s", -1)
			must(e.t, write(r, 10, 0))
			return write(create(e, "g", -1), 41, 0)
		}, ErrQuota, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env{newEnv(t, withLimits(tt.limits)), t}
			if tt.stored > 0 {
				e.mustPut(t, "alice", PutOptions{Name: "s"}, make([]byte, tt.stored))
			}
			testkit.WantErr(t, "do", tt.do(e), tt.wantErr)
			if got := e.svc.pending.held("alice"); got != tt.wantHeld {
				t.Errorf("open uploads hold %d bytes of quota, want %d", got, tt.wantHeld)
			}
			// A refused write stored nothing: no file in tmp/ grew.
			for _, name := range e.files(t, "tmp") {
				if fi, err := os.Stat(name); err == nil && fi.Size() > 1<<20 {
					t.Errorf("%s holds %d bytes", name, fi.Size())
				}
			}
		})
	}
}

// Every upload gives its hold back when it ends, committed or not.
func TestUploadReleasesQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, withLimits(Limits{Quota: 100}))
	ends := []func(u *Upload) error{
		func(u *Upload) error { _, err := u.Commit(ctx); return err },
		func(u *Upload) error { return u.Abort() },
		func(u *Upload) error { // a commit refused: a gap
			if _, err := u.WriteAt([]byte{1}, 50); err != nil {
				return err
			}
			_, err := u.Commit(ctx)
			testkit.WantErr(t, "commit with a gap", err, ErrGaps)
			return nil
		},
	}
	for i, end := range ends {
		u, err := e.svc.Create(ctx, "alice", PutOptions{Name: "f", Size: -1})
		must(t, err)
		_, err = u.Write(make([]byte, 10))
		must(t, err)
		must(t, end(u))
		if got := e.svc.pending.held("alice"); got != 0 {
			t.Errorf("end %d: %d bytes still held", i, got)
		}
	}
}
