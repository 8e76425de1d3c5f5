package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1024", 1024, true},
		{"512K", 512 << 10, true},
		{"512M", 512 << 20, true},
		{"256MiB", 256 << 20, true},
		{"1G", 1 << 30, true},
		{"1gb", 1 << 30, true},
		{"64GiB", 64 << 30, true},
		{"2T", 2 << 40, true},
		{"7B", 7, true},
		{"", 0, false},
		{"M", 0, false},
		{"-1", 0, false},
		{"1.5G", 0, false},
		{"1X", 0, false},
		{"1GiBB", 0, false},
		{"9999999999T", 0, false}, // overflows int64
	} {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	for n, want := range map[int64]string{0: "0", 1000: "1000", 1024: "1K", 256 << 20: "256M", 3 << 30: "3G"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
