package testkit

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WaitTmpEmpty waits (bounded, 5 s) until no upload is left in the data
// directory's tmp/, and fails the test, naming them, if some stay.
func WaitTmpEmpty(t testing.TB, data string) {
	t.Helper()
	dir := filepath.Join(data, "tmp")
	var names []string
	for range 200 {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("read %s: %v", dir, err)
		}
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) == 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("uploads left in %s: %v", dir, names)
}
