package sshd

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

// The sshelf subsystem's framing (the README's section "The sshelf
// subsystem" is the reference).
//
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
	errTruncated     = errors.New("input ended inside a request")
)

// requestHeader is one parsed header line.
type requestHeader struct {
	size int64  // content-length: bytes of content that follow the line
	line string // the command line, still shell-quoted
}

// newRequestReader returns the reader requests are read from: its buffer
// is the header line's bound, so no header makes it allocate more.
func newRequestReader(r io.Reader) *bufio.Reader {
	return bufio.NewReaderSize(r, maxHeaderLine)
}

// readHeader reads the next header line. It returns io.EOF for a clean end
// of input between requests, and one of the framing errors above otherwise.
func readHeader(r *bufio.Reader) (requestHeader, error) {
	raw, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return requestHeader{}, errHeaderTooLong
	case err == io.EOF && len(raw) == 0:
		return requestHeader{}, io.EOF
	case err == io.EOF:
		return requestHeader{}, errTruncated
	case err != nil:
		return requestHeader{}, fmt.Errorf("read request: %w", err)
	}
	return parseHeader(raw[:len(raw)-1])
}

// parseHeader parses a header line without its newline. (A carriage
// return before the newline needs no care: the command line's splitting
// takes it for a space.)
func parseHeader(raw []byte) (requestHeader, error) {
	digits, line, _ := bytes.Cut(raw, []byte(" "))
	if len(digits) == 0 || len(digits) > maxLengthDigits {
		return requestHeader{}, errBadLength
	}
	for _, b := range digits {
		if b < '0' || b > '9' {
			return requestHeader{}, errBadLength
		}
	}
	size, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return requestHeader{}, errBadLength
	}
	return requestHeader{size: size, line: string(line)}, nil
}

// formatHeader is parseHeader's inverse, for tests and the fuzz target.
func formatHeader(h requestHeader) string {
	return strconv.FormatInt(h.size, 10) + " " + h.line + "\n"
}

// chunkWriter frames everything written to it as data chunks.
type chunkWriter struct {
	w io.Writer
}

func (c chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxChunk)
		if _, err := fmt.Fprintf(c.w, "D %d\n", n); err != nil {
			return written, err
		}
		if _, err := c.w.Write(p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// writeAnswer writes the end line of an answer of kind k (KindNone: done):
// the one place a kind becomes an end line's status and token. A failure's
// message is preceded by "[TOKEN] ", the kind's stable token; a client that
// reads only the status, or the message's end, is not disturbed by it.
func writeAnswer(w io.Writer, k files.Kind, message string) error {
	if k == files.KindNone {
		return writeEnd(w, 0, message)
	}
	return writeEnd(w, ops.ExitStatus(k), "["+string(k)+"] "+message)
}

// writeEnd writes a response's end line. The message is kept to one
// printable line (controls, C1 included, and format characters escaped)
// whatever bytes a client put in its command.
func writeEnd(w io.Writer, status int, message string) error {
	_, err := fmt.Fprintf(w, "E %d %s\n", status, printable.Line(message))
	return err
}
