package testkit

import "testing"

func TestSHA256Hex(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := SHA256Hex([]byte(tt.in)); got != tt.want {
			t.Errorf("SHA256Hex(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRandBytes(t *testing.T) {
	t.Parallel()
	a, b := RandBytes(t, 32), RandBytes(t, 32)
	if len(a) != 32 || string(a) == string(b) {
		t.Errorf("RandBytes: %x, %x", a, b)
	}
}

func TestSampleHeapAndLeaks(t *testing.T) {
	before := Settled()
	peak := SampleHeap(t)
	if p := peak(); p == 0 {
		t.Errorf("peak heap 0")
	}
	// The sampler has stopped: nothing of it is left running.
	NoLeaks(t, before, 0)
}
