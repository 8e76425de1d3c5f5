package proxied

import (
	"bufio"
	"bytes"
	"net"
	"testing"
)

// FuzzProxyHeader: parsing whatever a balancer sends never panics; an
// address it yields is a whole TCP address, and the same bytes from an
// untrusted address are refused.
func FuzzProxyHeader(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("SSH-2.0-x\r\n"),
		[]byte("PROXY TCP4 10.1.2.3 10.0.0.1 4567 22\r\n"),
		append(append([]byte{}, sigV2()...), 0x21, 0x11, 0, 12, 10, 1, 2, 3, 10, 0, 0, 1, 0x11, 0xd7, 0, 22),
		append(append([]byte{}, sigV2()...), 0x20, 0x00, 0, 0),
		append(append([]byte{}, sigV2()...), 0x21, 0x21, 0, 36),
		sigV2()[:7],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		addr, err := parseHeader(bufio.NewReaderSize(bytes.NewReader(data), headerBuffer))
		if err != nil || addr == nil {
			return
		}
		tcp, ok := addr.(*net.TCPAddr)
		if !ok || tcp.IP == nil || tcp.String() == "" {
			t.Fatalf("parseHeader gave %#v", addr)
		}
		if v := sniff(data[:min(len(data), sigLen)]); v != isHeader {
			t.Fatalf("a header a balancer may send is not refused from elsewhere: %v", v)
		}
	})
}

func sigV2() []byte {
	return []byte{'\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n'}
}
