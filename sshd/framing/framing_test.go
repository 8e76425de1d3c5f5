package framing

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/ops"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		raw  string
		want Header
		err  error
	}{
		{"0 ls", Header{0, "ls"}, nil},
		{"12 put 'my file'", Header{12, "put 'my file'"}, nil},
		{"0", Header{0, ""}, nil},
		{"0 ", Header{0, ""}, nil},
		{"007 put x", Header{7, "put x"}, nil},
		{"9223372036854775807 put x", Header{1<<63 - 1, "put x"}, nil},
		{"0 ls\r", Header{0, "ls\r"}, nil},
		{"", Header{}, errBadLength},
		{" ls", Header{}, errBadLength},
		{"ls", Header{}, errBadLength},
		{"-1 put x", Header{}, errBadLength},
		{"+1 put x", Header{}, errBadLength},
		{"1x put x", Header{}, errBadLength},
		{"0\tls", Header{}, errBadLength},
		{"9223372036854775808 put x", Header{}, errBadLength},
		{"00000000000000000001 put x", Header{}, errBadLength},
		{"\x00\xff garbage", Header{}, errBadLength},
	}
	for _, tt := range tests {
		got, err := ParseHeader([]byte(tt.raw))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParseHeader(%q) = %+v, %v; want %+v, %v", tt.raw, got, err, tt.want, tt.err)
		}
	}
}

func TestReadHeader(t *testing.T) {
	r := NewReader(strings.NewReader("0 ls\n5 put a\nhello0 whoami\n"))
	for _, want := range []Header{{0, "ls"}, {5, "put a"}} {
		h, err := ReadHeader(r)
		if err != nil || h != want {
			t.Fatalf("ReadHeader = %+v, %v; want %+v", h, err, want)
		}
	}
	if _, err := io.CopyN(io.Discard, r, 5); err != nil {
		t.Fatal(err)
	}
	if h, err := ReadHeader(r); err != nil || h.Line != "whoami" {
		t.Fatalf("ReadHeader after content = %+v, %v", h, err)
	}
	if _, err := ReadHeader(r); err != io.EOF {
		t.Fatalf("ReadHeader at the end = %v; want io.EOF", err)
	}
}

func TestReadHeaderLimits(t *testing.T) {
	fits := "0 info " + strings.Repeat("a", maxHeaderLine-len("0 info ")-1) + "\n"
	if h, err := ReadHeader(NewReader(strings.NewReader(fits))); err != nil || len(h.Line) != maxHeaderLine-3 {
		t.Errorf("a header of exactly %d bytes: %v", maxHeaderLine, err)
	}
	tooLong := "0 info " + strings.Repeat("a", maxHeaderLine) + "\n"
	if _, err := ReadHeader(NewReader(strings.NewReader(tooLong))); !errors.Is(err, errHeaderTooLong) {
		t.Errorf("an over-long header: %v; want errHeaderTooLong", err)
	}
	if _, err := ReadHeader(NewReader(strings.NewReader("0 l"))); !errors.Is(err, ErrTruncated) {
		t.Errorf("a header cut short: %v; want ErrTruncated", err)
	}
}

func TestChunkWriter(t *testing.T) {
	var buf bytes.Buffer
	data := bytes.Repeat([]byte("x"), 2*maxChunk+3)
	n, err := ChunkWriter{W: &buf}.Write(data)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	r := bufio.NewReader(&buf)
	var sizes []int
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			break
		}
		var size int
		if _, err := fmt.Sscanf(line, "D %d\n", &size); err != nil {
			t.Fatalf("chunk header %q: %v", line, err)
		}
		sizes = append(sizes, size)
		if _, err := r.Discard(size); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{maxChunk, maxChunk, 3}) {
		t.Errorf("chunk sizes %v", sizes)
	}
}

func TestWriteEndIsOneLine(t *testing.T) {
	var buf bytes.Buffer
	WriteEnd(&buf, 2, "sshelf: l\ns\r: unknown command; try help\x7f")
	if got, want := buf.String(), `E 2 sshelf: l\ns\r: unknown command; try help\x7f`+"\n"; got != want {
		t.Errorf("end line %q; want %q", got, want)
	}
}

// FuzzReadRequest splits arbitrary input into requests as a session does.
// It must never panic, never read past a request's content, and every
// header it accepts must come back the same from its formatted form.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		"0 ls\n",
		"0 ls --json\n0 info --json -- 'my file'\n",
		"5 put a.txt\nhello0 get a.txt\n",
		"11 passwd\nold\nnewpass\n",
		"3 put x\nab",
		"garbage\n",
		"-1 put x\n",
		"99999999999999999999 put x\n",
		"0 get 'unterminated\n",
		"0 \xff\xfe\x00\n",
		"0",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		r := NewReader(src)
		// consumed is what the session took from its input so far.
		consumed := func() int { return len(data) - src.Len() - r.Buffered() }
		for range len(data) + 1 {
			h, err := ReadHeader(r)
			if err == io.EOF {
				if consumed() != len(data) {
					t.Fatalf("clean end after %d of %d bytes", consumed(), len(data))
				}
				return
			}
			if err != nil {
				return
			}
			raw := formatHeader(h)
			if strings.Contains(h.Line, "\n") || h.Size < 0 {
				t.Fatalf("header %+v", h)
			}
			again, err := ParseHeader([]byte(strings.TrimSuffix(raw, "\n")))
			if err != nil || again != h {
				t.Fatalf("header %+v formats as %q, parses as %+v, %v", h, raw, again, err)
			}
			before := consumed()
			content := &io.LimitedReader{R: r, N: h.Size}
			n, _ := io.Copy(io.Discard, content)
			if consumed()-before != int(n) || n > h.Size {
				t.Fatalf("content of %d bytes took %d", h.Size, consumed()-before)
			}
			if n < h.Size {
				return // truncated content: the session would end here
			}
			// The command line must parse or fail cleanly.
			ops.ParseLine(h.Line)
		}
		t.Fatalf("more requests than bytes")
	})
}
