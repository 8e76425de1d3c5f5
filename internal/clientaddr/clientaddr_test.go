package clientaddr

import (
	"context"
	"testing"
)

func TestHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.2:5555", "127.0.0.2"},
		{"[::1]:22", "::1"},
		{"10.0.0.1", "10.0.0.1"},
		{"", ""},
	} {
		if got := Host(tc.in); got != tc.want {
			t.Errorf("Host(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWithFrom(t *testing.T) {
	ctx := context.Background()
	if got := From(ctx); got != "" {
		t.Fatalf("From(empty) = %q", got)
	}
	if got := From(With(ctx, "127.0.0.3")); got != "127.0.0.3" {
		t.Fatalf("From(With) = %q", got)
	}
}
