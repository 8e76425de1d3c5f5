package sshdfuzz

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/sshd"
)

// FuzzSCP runs a legacy scp command line (scp -t or scp -f) with the
// client's side of the protocol as its input, over the real files.Service
// of FuzzSFTP, as user "fuzz". Whatever the input, nothing panics, no
// upload is left behind, every stored file matches its SHA-256, and a sink
// answers only with well-formed statuses (a 0 byte, or 1 or 2 and one
// line), so that the client's framing holds.
func FuzzSCP(f *testing.F) {
	for _, s := range []struct{ command, stream string }{
		{"scp -t .", "C0644 5 hello\nhello\x00"},
		{"scp -t /", "T1700000000 0 1700000000 0\nC0600 3 abc\nabc\x00C0644 0 empty\n\x00"},
		{"scp -t name", "C0644 2 local\nhi\x00"},
		{"scp -pt -- .", "C0644 4 short\nab"},                            // content cut short
		{"scp -t .", "C0644 4 failed\n\x00\x00\x00\x00\x01read error\n"}, // the client failed
		{"scp -t .", "C0644 99999999999999999999 big\n"},
		{"scp -t .", "C0644 -1 neg\n"},
		{"scp -t .", "C0644 1073741824 huge\nx"}, // past the size limit: refused before content
		{"scp -t .", "C064 1 m\nx\x00Cxxxx 1 m\nx\x00C0644 1\n"},
		{"scp -t .", "C0644 1 a/b\nx\x00C0644 1 ..\nx\x00C0644 1 \x1b[31m\nx\x00"},
		{"scp -t .", "D0755 0 dir\nE\n"},
		{"scp -t .", "\x02fatal\n"},
		{"scp -t .", "\n"},
		{"scp -t .", strings.Repeat("C", 5000) + "\n"},
		{"scp -t shared", "C0644 1 x\nx\x00"}, // another's file
		{"scp -t a/b", ""},
		{"scp -r -t .", ""},
		{"scp -f shared", "\x00\x00\x00"},
		{"scp -pf shared hidden", "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"scp -f secret nothing ..", "\x00\x00\x00"},
		{"scp -f shared", "\x01no room\n"},
		{"scp -f", ""},
		{"scp -x -t .", ""},
		{"scp 'unterminated", ""},
	} {
		f.Add(s.command, []byte(s.stream))
	}
	h := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, command string, stream []byte) {
		argv, ok := sshd.SCPCommand(command)
		if !ok {
			return
		}
		var out bytes.Buffer
		in := bufio.NewReader(bytes.NewReader(stream))
		h.srv.ServeSCP(context.Background(), "fuzz", "fuzz:1", ops.Settings{}, argv, in, &out)
		if sshd.SCPAnswersInStatuses(argv) {
			if err := wellFormedStatuses(out.Bytes()); err != "" {
				t.Fatalf("%q answered %q: %s", command, out.Bytes(), err)
			}
		}
		h.after(t)
	})
}

// wellFormedStatuses checks a sink's answers: each a 0 byte, or a 1 or 2
// and a line. It returns what is wrong, or "".
func wellFormedStatuses(b []byte) string {
	for len(b) > 0 {
		switch b[0] {
		case 0: // ok
			b = b[1:]
		case 1, 2: // an error, a fatal one
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return "an error status without the end of its line"
			}
			b = b[i+1:]
		default:
			return "a status byte that is neither 0, 1 nor 2"
		}
	}
	return ""
}
