package sshd

import "testing"

func TestCounter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		adds     int
		dones    int
		bound    int
		wantFull bool
		wantKept bool // the key is still in the map
	}{
		{"no bound", 5, 0, 0, false, true},
		{"below the bound", 1, 0, 2, false, true},
		{"at the bound", 2, 0, 2, true, true},
		{"back below", 2, 1, 2, false, true},
		{"all done", 2, 2, 2, false, false},
		{"done more than added", 1, 2, 1, false, false},
	}
	for _, tt := range tests {
		c := counter{}
		for range tt.adds {
			c.add("k")
		}
		for range tt.dones {
			c.done("k")
		}
		if got := c.full("k", tt.bound); got != tt.wantFull {
			t.Errorf("%s: full = %v, want %v", tt.name, got, tt.wantFull)
		}
		if _, kept := c["k"]; kept != tt.wantKept {
			t.Errorf("%s: key kept = %v, want %v (%v)", tt.name, kept, tt.wantKept, c)
		}
	}
}
