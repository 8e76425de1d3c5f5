package sshd_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// rawSession is the subsystem seen byte by byte, on a raw channel:
// gossh.Session cannot wait for the exit status of a subsystem.
type rawSession struct {
	t      testing.TB
	ch     gossh.Channel
	in     io.WriteCloser
	out    *bufio.Reader
	status <-chan int // the exit status, or -1 if none came
}

func openRaw(t testing.TB, conn *gossh.Client, env ...string) *rawSession {
	t.Helper()
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	s := &rawSession{t: t, ch: ch, in: closeWriter{ch}, out: bufio.NewReader(ch), status: exitStatusOf(reqs)}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if ok, err := ch.SendRequest("env", true, gossh.Marshal(struct{ K, V string }{k, v})); !ok || err != nil {
			t.Fatalf("setenv %s: %v, %v", k, ok, err)
		}
	}
	if ok, err := ch.SendRequest("subsystem", true, gossh.Marshal(struct{ Name string }{"sshelf"})); !ok || err != nil {
		t.Fatalf("subsystem sshelf: %v, %v", ok, err)
	}
	return s
}

// exitStatusOf answers a session channel's requests and delivers the exit
// status it reports, or -1 if none comes before the channel closes.
func exitStatusOf(reqs <-chan *gossh.Request) <-chan int {
	status := make(chan int, 1)
	go func() {
		code := -1
		for req := range reqs {
			if req.Type == "exit-status" && len(req.Payload) == 4 {
				code = int(binary.BigEndian.Uint32(req.Payload))
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
		status <- code
	}()
	return status
}

// closeWriter makes CloseWrite (end of input) the channel's Close for
// writing.
type closeWriter struct{ ch gossh.Channel }

func (w closeWriter) Write(p []byte) (int, error) { return w.ch.Write(p) }
func (w closeWriter) Close() error                { return w.ch.CloseWrite() }

func (s *rawSession) send(raw string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, raw); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

// request sends one framed request and reads its response.
func (s *rawSession) request(line, content string) response {
	s.t.Helper()
	s.send(fmt.Sprintf("%d %s\n", len(content), line) + content)
	r, err := readResponse(s.out)
	if err != nil {
		s.t.Fatalf("response to %q: %v", line, err)
	}
	return r
}

// exitStatus closes the input and waits (bounded) for the session's end.
func (s *rawSession) exitStatus() int {
	s.t.Helper()
	s.in.Close()
	// Drain what the server still says, so it can finish.
	go io.Copy(io.Discard, s.out)
	select {
	case code := <-s.status:
		return code
	case <-time.After(20 * time.Second):
		s.t.Fatalf("session did not end")
	}
	return -1
}

// response is one parsed response.
type response struct {
	data    string
	status  int
	message string // a failure's without its "[kind] " token
}

func (r response) String() string {
	return fmt.Sprintf("data %q, E %d %s", r.data, r.status, r.message)
}

// readResponse parses one response as the README's subsystem section defines it.
func readResponse(r *bufio.Reader) (response, error) {
	var resp response
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return resp, fmt.Errorf("response line %q: %w", line, err)
		}
		kind, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch kind {
		case "D":
			n, err := strconv.Atoi(rest)
			if err != nil || n <= 0 || n > 1<<20 {
				return resp, fmt.Errorf("bad chunk header %q", line)
			}
			if _, err := io.CopyN(&data, r, int64(n)); err != nil {
				return resp, fmt.Errorf("chunk of %d: %w", n, err)
			}
		case "E":
			status, msg, ok := strings.Cut(rest, " ")
			code, err := strconv.Atoi(status)
			if !ok || err != nil {
				return resp, fmt.Errorf("bad end line %q", line)
			}
			if code != 0 {
				if tok, rest, ok := strings.Cut(msg, "] "); ok && strings.HasPrefix(tok, "[") {
					msg = rest
				}
			}
			resp.data, resp.status, resp.message = data.String(), code, msg
			return resp, nil
		default:
			return resp, fmt.Errorf("unexpected line %q", line)
		}
	}
}
