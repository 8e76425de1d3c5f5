package app

import (
	"net"
	"testing"
)

func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:2222", true},
		{"127.0.0.2:2222", true},
		{"[::1]:2222", true},
		{"[::]:2222", false},
		{"0.0.0.0:2222", false},
		{"192.0.2.7:2222", false},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := loopback(a); got != tc.want {
			t.Errorf("loopback(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
