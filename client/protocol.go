package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxChunk is the largest data chunk the server sends.
const maxChunk = 1 << 20

// request is one command to send.
type request struct {
	args    []string  // the command line, unquoted
	content io.Reader // put's content or passwd's lines; nil for none
	size    int64     // bytes of content to send
	out     io.Writer // where data chunks go; nil discards them
}

// Do sends one request and returns the message of its end line ("ok",
// "sha256 HEX") when the status is 0, or an *Error. It is the whole
// protocol; the named methods are built on it.
func (c *Client) Do(ctx context.Context, args []string, content io.Reader, size int64, out io.Writer) (string, error) {
	return c.do(ctx, request{args: args, content: content, size: size, out: out})
}

func (c *Client) do(ctx context.Context, req request) (string, error) {
	line, err := commandLine(req.args)
	if err != nil {
		return "", err
	}
	if req.size < 0 || req.size > 0 && req.content == nil {
		return "", fmt.Errorf("sshelf %s: content of %d bytes and no reader", req.args[0], req.size)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return "", fmt.Errorf("sshelf %s: %w", req.args[0], c.broken)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// The framing has no way to abandon a request half-way: a cancelled
	// ctx closes the session, and the client is then unusable.
	stop := context.AfterFunc(ctx, func() { c.closer.Close() })
	msg, err := c.exchange(line, req)
	if !stop() {
		c.broken = fmt.Errorf("%w: request cancelled: %v", ErrBroken, context.Cause(ctx))
		return "", fmt.Errorf("sshelf %s: %w", req.args[0], context.Cause(ctx))
	}
	var serr *Error
	var oerr *outputError
	if err != nil && !errors.As(err, &serr) && !errors.As(err, &oerr) {
		// An I/O or framing failure: whatever follows is out of step.
		c.broken = fmt.Errorf("%w: %v", ErrBroken, err)
		c.closer.Close()
	}
	return msg, err
}

// exchange writes one request and reads its response.
func (c *Client) exchange(line string, req request) (string, error) {
	if _, err := fmt.Fprintf(c.w, "%d %s\n", req.size, line); err != nil {
		return "", fmt.Errorf("sshelf %s: send: %w", req.args[0], err)
	}
	if req.size > 0 {
		n, err := io.CopyN(c.w, req.content, req.size)
		if err != nil {
			if err == io.EOF {
				return "", c.contentCutShort(req, n)
			}
			return "", fmt.Errorf("sshelf %s: send content: %w", req.args[0], err)
		}
	}
	if err := c.w.Flush(); err != nil {
		return "", c.refusedEarly(req, fmt.Errorf("sshelf %s: send: %w", req.args[0], err))
	}
	return c.readResponse(req)
}

// refusedEarly explains a request the server would not take: a server
// that refuses a session (over its limits) answers before any request and
// ends it, so the send fails. Its answer, if it came, is wrapped in err.
// The session is unusable afterwards.
func (c *Client) refusedEarly(req request, err error) error {
	c.broken = fmt.Errorf("%w: %v", ErrBroken, err)
	var serr *Error
	if _, rerr := c.readResponse(req); errors.As(rerr, &serr) {
		err = fmt.Errorf("%w: %w", err, serr)
	}
	c.closer.Close()
	return err
}

// contentCutShort ends a request whose content reader ended after n of
// its declared bytes: the framing cannot go on, so the client ends its
// input and reads the server's verdict (an incomplete upload, nothing
// stored), which the error wraps. The session is unusable afterwards.
func (c *Client) contentCutShort(req request, n int64) error {
	err := fmt.Errorf("sshelf %s: send content: content ended after %d of %d bytes; nothing stored", req.args[0], n, req.size)
	c.broken = fmt.Errorf("%w: content cut short", ErrBroken)
	if c.sess == nil || c.w.Flush() != nil || c.sess.ch.CloseWrite() != nil {
		return err
	}
	if _, serr := c.readResponse(req); serr != nil {
		err = fmt.Errorf("%w: %w", err, serr)
	}
	c.closer.Close()
	return err
}

// readResponse reads data chunks into req.out until the end line. A
// failing out does not stop the reading: the chunks must be consumed to
// stay in step.
func (c *Client) readResponse(req request) (string, error) {
	sink := &stickyWriter{w: req.out}
	if sink.w == nil {
		sink.w = io.Discard
	}
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			if err == io.EOF || errors.Is(err, bufio.ErrBufferFull) {
				err = fmt.Errorf("%w: response line: %v", ErrProtocol, err)
			}
			return "", fmt.Errorf("sshelf %s: %w", req.args[0], err)
		}
		kind, rest, _ := strings.Cut(strings.TrimSuffix(string(line), "\n"), " ")
		switch kind {
		case "D":
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > maxChunk {
				return "", fmt.Errorf("sshelf %s: %w: bad chunk header %q", req.args[0], ErrProtocol, line)
			}
			if _, err := io.CopyN(sink, c.r, int64(n)); err != nil {
				return "", fmt.Errorf("sshelf %s: read data: %w", req.args[0], err)
			}
		case "E":
			status, msg, _ := strings.Cut(rest, " ")
			code, err := strconv.Atoi(status)
			if err != nil || code < 0 {
				return "", fmt.Errorf("sshelf %s: %w: bad end line %q", req.args[0], ErrProtocol, line)
			}
			if code != 0 {
				kind, line := parseEnd(msg)
				return "", &Error{Status: code, Kind: kind, Message: line}
			}
			if sink.err != nil {
				return "", &outputError{fmt.Errorf("sshelf %s: write output: %w", req.args[0], sink.err)}
			}
			return msg, nil
		default:
			return "", fmt.Errorf("sshelf %s: %w: unexpected line %q", req.args[0], ErrProtocol, line)
		}
	}
}

// outputError is a failure of the caller's writer: the response was read
// whole, so the session is still in step.
type outputError struct{ err error }

func (e *outputError) Error() string { return e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// stickyWriter keeps the first error of w and swallows the rest of the
// data, so that a response is read to its end whatever w does.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

// commandLine quotes args for the server's shell-style splitting. A name
// that starts with "-" must follow a "--" argument, which callers add.
func commandLine(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("sshelf: empty command")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "\n\r") {
			return "", fmt.Errorf("sshelf %s: an argument contains a line break", args[0])
		}
		quoted[i] = quote(a)
	}
	return strings.Join(quoted, " "), nil
}

// quote single-quotes s unless it is plainly safe.
func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
