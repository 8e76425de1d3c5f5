package sshd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/sshd/framing"
)

// maxSmallContent bounds the content of requests other than put (passwd's
// two lines): it is read whole before the command runs, so that a cut-off
// request never runs on half its input.
const maxSmallContent = 8 << 10

// Session exit statuses of the subsystem, beyond 0 for a clean end.
const (
	exitTruncated    = 1 // the input ended inside a request
	exitFramingError = 2 // a header could not be parsed; framing is lost
)

// handleSubsystem serves the sshelf subsystem: many file commands in one
// session, framed as the README's subsystem section describes.
func (s *Server) handleSubsystem(sess ssh.Session) {
	sess.Exit(s.serveRequests(sess.Context(), sess))
}

// serveRequests answers requests until the input ends; it returns the
// session's exit status.
func (s *Server) serveRequests(ctx context.Context, sess ssh.Session) int {
	in := framing.NewReader(sess)
	// Buffered so that a small response leaves in one packet; large
	// writes pass straight through, and every response is flushed.
	out := bufio.NewWriterSize(sess, 64<<10)
	base := ops.Call{
		User:      sess.User(),
		Addr:      sess.RemoteAddr().String(),
		Transport: "sshelf",
		Settings:  sessionSettings(sess),
	}
	for {
		h, err := framing.ReadHeader(in)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			s.log.InfoContext(ctx, "sshelf subsystem: framing lost", "user", base.User, "addr", base.Addr, "result", err.Error())
			framing.WriteAnswer(out, files.KindUsage, "sshelf: "+err.Error()) // status exitFramingError
			out.Flush()
			if errors.Is(err, framing.ErrTruncated) {
				return exitTruncated
			}
			return exitFramingError
		}
		cl := base
		ok := s.serveRequest(ctx, h, in, out, &cl)
		if err := out.Flush(); err != nil {
			return exitTruncated
		}
		if !ok {
			return exitTruncated
		}
	}
}

// serveRequest runs one request and writes its response. It consumes
// exactly the request's content, and reports false if the input ended
// before that: the session cannot go on.
func (s *Server) serveRequest(ctx context.Context, h framing.Header, in io.Reader, out io.Writer, cl *ops.Call) bool {
	start := time.Now()
	content := &io.LimitedReader{R: in, N: h.Size}
	c, err := ops.ParseLine(h.Line)
	spec, _ := ops.Lookup(c.Name)
	if err == nil && h.Size > 0 && !spec.TakesContent() {
		err = &ops.UsageError{Command: c.Name, Msg: "takes no content: content-length must be 0"}
	}
	cl.Out = framing.ChunkWriter{W: out}
	cl.Size = h.Size
	cl.In = content
	if err == nil && c.Name == "passwd" {
		cl.In, err = readSmallContent(content)
	}
	var res ops.Result
	if err == nil {
		res, err = s.ops.Run(ctx, c, cl)
	}
	// A refused or failed put leaves content unread: skip it, so the next
	// request starts where the client thinks it does.
	io.Copy(io.Discard, content)
	complete := content.N == 0
	if !complete && err == nil {
		err = fmt.Errorf("%w: %w", files.ErrIncomplete, framing.ErrTruncated)
	}
	s.ops.Record(ctx, cl, c, res, err, start)
	if err != nil {
		framing.WriteAnswer(out, files.KindOf(err), ops.ErrorLine(c, err))
		return complete
	}
	message := "ok"
	switch c.Name {
	case "get", "put", "sum":
		message = "sha256 " + res.SHA256
	}
	framing.WriteAnswer(out, files.KindNone, message)
	return complete
}

// readSmallContent reads a small request's content whole.
func readSmallContent(content *io.LimitedReader) (io.Reader, error) {
	if content.N > maxSmallContent {
		return nil, &ops.UsageError{Command: "passwd", Msg: fmt.Sprintf("content longer than %d bytes", maxSmallContent)}
	}
	b, err := io.ReadAll(content)
	if err != nil || content.N > 0 {
		return nil, fmt.Errorf("%w: %w", files.ErrIncomplete, framing.ErrTruncated)
	}
	return bytes.NewReader(b), nil
}
