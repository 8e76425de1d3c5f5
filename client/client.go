// Package client speaks the sshelf subsystem (`ssh -s HOST sshelf`): many
// file commands over one SSH session, framed as the README's
// subsystem section describes. A Client serializes its requests; use one per goroutine for
// parallel transfers.
package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Config says how to log in and how to check the server.
type Config struct {
	User string
	// Password, Signer or both: the key is tried first.
	Password string
	Signer   ssh.Signer
	// HostKeyCallback checks the server's host key: required. Use
	// KnownHosts, or ssh.FixedHostKey for a key known in advance.
	HostKeyCallback ssh.HostKeyCallback
	// HostKeyAlgorithms, if set, are the host key types to ask for, e.g.
	// those KnownHosts found for the address.
	HostKeyAlgorithms []string
	// FilePassword, if set, is sent as SSHELF_FILE_PASSWORD: the download
	// password for every get that names none.
	FilePassword string
	// Timeout bounds the TCP connect and the SSH handshake; default 30s.
	Timeout time.Duration
}

// Client is one sshelf subsystem session.
type Client struct {
	conn     *ssh.Client
	ownsConn bool
	sess     *session
	closer   io.Closer // closes the session; a cancelled request uses it
	w        *bufio.Writer
	r        *bufio.Reader

	mu     sync.Mutex // one request at a time
	broken error      // set once the session is out of step
}

// Dial connects to addr ("host:port"), logs in and opens the subsystem.
func Dial(ctx context.Context, addr string, cfg Config) (*Client, error) {
	if cfg.HostKeyCallback == nil {
		return nil, errors.New("sshelf dial: no host key check: set Config.HostKeyCallback (client.KnownHosts or ssh.FixedHostKey)")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	var auth []ssh.AuthMethod
	if cfg.Signer != nil {
		auth = append(auth, ssh.PublicKeys(cfg.Signer))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sshCfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   cfg.HostKeyCallback,
		HostKeyAlgorithms: cfg.HostKeyAlgorithms,
		Timeout:           timeout,
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sshelf dial %s: %w", addr, err)
	}
	// The handshake has no context of its own: closing the socket is how
	// a cancelled ctx stops it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, sshCfg)
	if !stop() {
		if err == nil {
			cc.Close()
		}
		return nil, fmt.Errorf("sshelf dial %s: %w", addr, context.Cause(ctx))
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("sshelf dial %s: %w", addr, err)
	}
	conn := ssh.NewClient(cc, chans, reqs)
	c, err := open(conn, cfg.FilePassword)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.ownsConn = true
	return c, nil
}

// New opens the subsystem on an existing connection, which Close leaves
// open.
func New(conn *ssh.Client) (*Client, error) {
	return open(conn, "")
}

func open(conn *ssh.Client, filePassword string) (*Client, error) {
	// A raw channel rather than ssh.Session: Session.Wait works only after
	// Start or Shell, and the exit status is wanted here.
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		return nil, fmt.Errorf("sshelf: open session: %w", err)
	}
	s := &session{ch: ch, done: make(chan struct{})}
	go s.watch(reqs)
	if filePassword != "" {
		env := ssh.Marshal(struct{ Name, Value string }{"SSHELF_FILE_PASSWORD", filePassword})
		if ok, err := ch.SendRequest("env", true, env); err != nil || !ok {
			ch.Close()
			return nil, fmt.Errorf("sshelf: set SSHELF_FILE_PASSWORD: refused (%v)", err)
		}
	}
	sub := ssh.Marshal(struct{ Name string }{"sshelf"})
	if ok, err := ch.SendRequest("subsystem", true, sub); err != nil || !ok {
		ch.Close()
		return nil, fmt.Errorf("sshelf: start subsystem: refused (%v)", err)
	}
	return &Client{
		conn:   conn,
		sess:   s,
		closer: s,
		w:      bufio.NewWriterSize(ch, 64<<10),
		r:      bufio.NewReaderSize(ch, 64<<10),
	}, nil
}

// closeWait bounds how long Close waits for the server to end the session
// after the end of input.
const closeWait = 5 * time.Second

// Close ends the session cleanly (end of input between requests) and, if
// Dial opened it, the connection. A request in flight fails.
func (c *Client) Close() error {
	c.sess.ch.CloseWrite()
	var err error
	select {
	case <-c.sess.done:
	case <-time.After(closeWait):
		err = errors.New("sshelf: the server did not end the session")
	}
	c.sess.ch.Close()
	if c.ownsConn {
		if cerr := c.conn.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	c.mu.Lock()
	broken := c.broken != nil
	c.mu.Unlock()
	// A session cut off on purpose (see ErrBroken) may end with a failure
	// status: the request that broke it has reported the failure already.
	if err == nil && !broken {
		if code, ok := c.sess.exitStatus(); ok && code != 0 {
			err = fmt.Errorf("sshelf: session ended with status %d", code)
		}
	}
	return err
}

// session is the subsystem's channel and what the server says about it.
type session struct {
	ch   ssh.Channel
	done chan struct{} // closed when the channel is closed

	mu     sync.Mutex
	code   int
	exited bool
}

// watch takes the channel's requests until it closes: the exit status is
// kept, anything else refused.
func (s *session) watch(reqs <-chan *ssh.Request) {
	defer close(s.done)
	for req := range reqs {
		if req.Type == "exit-status" && len(req.Payload) >= 4 {
			s.mu.Lock()
			s.code, s.exited = int(binary.BigEndian.Uint32(req.Payload)), true
			s.mu.Unlock()
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
}

func (s *session) exitStatus() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.exited
}

func (s *session) Close() error { return s.ch.Close() }
