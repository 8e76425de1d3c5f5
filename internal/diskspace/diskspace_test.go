package diskspace

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestReserve(t *testing.T) {
	const size = 1 << 20
	cases := []struct {
		name   string
		free   int64
		exists bool // before Restore
		want   bool // after Restore
	}{
		{"made with room to spare", 10 * size, false, true},
		{"made with its size and a quarter free", size + size/4, false, true},
		{"not made on a nearly full disk", size + size/4 - 1, false, false},
		{"kept when there", 0, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "reserve")
			r := NewReserve(p, size)
			r.free = func(string) (int64, error) { return c.free, nil }
			if c.exists {
				if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Restore(); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			info, err := os.Stat(p)
			if got := err == nil; got != c.want {
				t.Fatalf("reserve there: %v (%v), want %v", got, err, c.want)
			}
			if c.want && info.Size() != size {
				t.Errorf("reserve holds %d bytes, want %d", info.Size(), size)
			}
			for i := 0; i < 2; i++ { // releasing twice is fine
				if err := r.Release(); err != nil {
					t.Fatalf("Release: %v", err)
				}
			}
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Release: %v", err)
			}
		})
	}
}

func TestFree(t *testing.T) {
	free, err := Free(t.TempDir())
	if err != nil || free <= 0 {
		t.Errorf("Free = %d, %v", free, err)
	}
	if _, err := Free(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("Free of a missing path: no error")
	}
}
