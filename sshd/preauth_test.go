package sshd

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestConnLimiter: connections not logged in are bounded in total and per
// address, all connections per address; logging in frees the
// unauthenticated slot, closing frees every slot, once.
func TestConnLimiter(t *testing.T) {
	t.Parallel()
	const a, b, c = "10.0.0.1", "10.0.0.2", "10.0.0.3"
	type step struct {
		op   string // "admit", "auth" (of the i-th admitted), "close" (of the i-th admitted)
		addr string
		i    int
		want error
	}
	tests := []struct {
		name                          string
		maxUnauth, perAddr, allPerAdr int
		steps                         []step
	}{
		{"per address", 100, 2, 0, []step{
			{op: "admit", addr: a}, {op: "admit", addr: a},
			{op: "admit", addr: a, want: errTooManyUnauthenticatedForAddr},
			{op: "admit", addr: b},
			{op: "auth", i: 0}, // frees a's unauthenticated slot
			{op: "admit", addr: a},
			{op: "admit", addr: a, want: errTooManyUnauthenticatedForAddr},
			{op: "close", i: 1},
			{op: "admit", addr: a},
		}},
		{"total", 3, 3, 0, []step{
			{op: "admit", addr: a}, {op: "admit", addr: a}, {op: "admit", addr: b},
			{op: "admit", addr: c, want: errTooManyUnauthenticated},
			{op: "close", i: 0},
			{op: "close", i: 0}, // twice: frees one slot only
			{op: "admit", addr: c},
			{op: "admit", addr: c, want: errTooManyUnauthenticated},
			{op: "auth", i: 2},
			{op: "auth", i: 2},
			{op: "admit", addr: c},
			{op: "admit", addr: c, want: errTooManyUnauthenticated},
		}},
		{"all connections per address", 100, 2, 3, []step{
			{op: "admit", addr: a}, {op: "admit", addr: a},
			{op: "auth", i: 0}, {op: "auth", i: 1},
			{op: "admit", addr: a},
			{op: "admit", addr: a, want: errTooManyConnectionsForAddr},
			{op: "admit", addr: b},
			{op: "close", i: 0}, // a logged-in connection's close frees its place
			{op: "admit", addr: a},
		}},
		{"close after login", 1, 0, 0, []step{
			{op: "admit", addr: a}, {op: "auth", i: 0}, {op: "close", i: 0},
			{op: "admit", addr: a},
			{op: "admit", addr: a, want: errTooManyUnauthenticated},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newConnLimiter(tt.maxUnauth, tt.perAddr, tt.allPerAdr)
			var slots []*connSlot
			for n, s := range tt.steps {
				switch s.op {
				case "admit":
					slot, err := l.admit(s.addr)
					if !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
						t.Fatalf("step %d: admit %s: %v, want %v", n, s.addr, err, s.want)
					}
					if err == nil {
						slots = append(slots, slot)
					}
				case "auth":
					slots[s.i].authenticated()
				case "close":
					slots[s.i].release()
				}
			}
			for _, s := range slots {
				s.release()
				s.authenticated() // after close: no effect
			}
			for _, addr := range []string{a, b, c} {
				if u, au, all := l.counts(addr); u != 0 || au != 0 || all != 0 {
					t.Errorf("after closing all: %d unauthenticated, %s: %d, %d", u, addr, au, all)
				}
			}
			if len(l.byAddr) != 0 {
				t.Errorf("addresses left: %v", l.byAddr)
			}
		})
	}
}

// TestConnBuffersAfterLogin: a connection reads straight from the socket
// until it logs in (a stalled handshake holds no big buffer), through
// connReadBuffer after; closing it frees its slot once.
func TestConnBuffersAfterLogin(t *testing.T) {
	t.Parallel()
	l := newConnLimiter(1, 1, 1)
	slot, err := l.admit("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	defer client.Close()
	c := &conn{Conn: server, slot: slot, deadline: time.NewTimer(time.Hour)}
	go func() {
		client.Write([]byte("SSH-2.0-x\r\n"))
		client.Write([]byte("after login"))
	}()
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "SSH-2.0-x\r\n" || c.r != nil {
		t.Fatalf("before login: %q, %v, buffer %v", buf[:n], err, c.r != nil)
	}
	c.authenticated()
	if u, _, _ := l.counts("10.0.0.1"); u != 0 {
		t.Errorf("%d unauthenticated after login", u)
	}
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "after login" || c.r == nil || c.r.Size() != connReadBuffer {
		t.Fatalf("after login: %q, %v", buf[:n], err)
	}
	c.Close()
	c.Close()
	if _, _, all := l.counts("10.0.0.1"); all != 0 {
		t.Errorf("%d connections counted after close", all)
	}
	if _, err := l.admit("10.0.0.1"); err != nil {
		t.Errorf("admit after close: %v", err)
	}
}
