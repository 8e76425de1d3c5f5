// Package framing is the sshelf subsystem's framing on the server's side
// (the README's section "The sshelf subsystem" is the reference): reading
// requests' header lines, writing data chunks and end lines.
package framing

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/printable"
)

// A request is one header line, "<content-length> <command line>\n",
// followed by exactly content-length raw bytes. A response is zero or more
// data chunks, "D <len>\n" and len bytes, then one end line,
// "E <status> <message>\n", a failure's message starting "[kind] ".
const (
	// maxHeaderLine bounds a request's header line, its newline included.
	maxHeaderLine = 64 << 10
	// maxLengthDigits bounds content-length: 19 digits always fit an int64
	// once the value is checked.
	maxLengthDigits = 19
	// maxChunk bounds one data chunk of a response.
	maxChunk = 1 << 20
)

// Framing errors: the request stream can no longer be split into requests,
// so the session answers with an error and ends.
var (
	errHeaderTooLong = fmt.Errorf("request line longer than %d bytes", maxHeaderLine)
	errBadLength     = errors.New("request line must start with a content length: decimal digits, then a space")
	ErrTruncated     = errors.New("input ended inside a request")
)

// Header is one parsed header line.
type Header struct {
	Size int64  // content-length: bytes of content that follow the line
	Line string // the command line, still shell-quoted
}

// NewReader returns the reader requests are read from: its buffer
// is the header line's bound, so no header makes it allocate more.
func NewReader(r io.Reader) *bufio.Reader {
	return bufio.NewReaderSize(r, maxHeaderLine)
}

// ReadHeader reads the next header line. It returns io.EOF for a clean end
// of input between requests, and one of the framing errors above otherwise.
func ReadHeader(r *bufio.Reader) (Header, error) {
	raw, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return Header{}, errHeaderTooLong
	case err == io.EOF && len(raw) == 0:
		return Header{}, io.EOF
	case err == io.EOF:
		return Header{}, ErrTruncated
	case err != nil:
		return Header{}, fmt.Errorf("read request: %w", err)
	}
	return ParseHeader(raw[:len(raw)-1])
}

// ParseHeader parses a header line without its newline. (A carriage
// return before the newline needs no care: the command line's splitting
// takes it for a space.)
func ParseHeader(raw []byte) (Header, error) {
	digits, line, _ := bytes.Cut(raw, []byte(" "))
	if len(digits) == 0 || len(digits) > maxLengthDigits {
		return Header{}, errBadLength
	}
	for _, b := range digits {
		if b < '0' || b > '9' {
			return Header{}, errBadLength
		}
	}
	size, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return Header{}, errBadLength
	}
	return Header{Size: size, Line: string(line)}, nil
}

// formatHeader is ParseHeader's inverse, for tests and the fuzz target.
func formatHeader(h Header) string {
	return strconv.FormatInt(h.Size, 10) + " " + h.Line + "\n"
}

// ChunkWriter frames everything written to it as data chunks.
type ChunkWriter struct {
	W io.Writer
}

func (c ChunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxChunk)
		if _, err := fmt.Fprintf(c.W, "D %d\n", n); err != nil {
			return written, err
		}
		if _, err := c.W.Write(p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// WriteAnswer writes the end line of an answer of kind k (KindNone: done):
// the one place a kind becomes an end line's status and token. A failure's
// message is preceded by "[TOKEN] ", the kind's stable token; a client that
// reads only the status, or the message's end, is not disturbed by it.
func WriteAnswer(w io.Writer, k files.Kind, message string) error {
	if k == files.KindNone {
		return WriteEnd(w, 0, message)
	}
	return WriteEnd(w, ops.ExitStatus(k), "["+string(k)+"] "+message)
}

// WriteEnd writes a response's end line. The message is kept to one
// printable line (controls, C1 included, and format characters escaped)
// whatever bytes a client put in its command.
func WriteEnd(w io.Writer, status int, message string) error {
	_, err := fmt.Fprintf(w, "E %d %s\n", status, printable.Line(message))
	return err
}
