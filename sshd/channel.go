package sshd

import (
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"

	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/printable"
)

// serverConfig sets the algorithms offered. SSH lets the client's order
// decide, so the server steers only by what it offers: where the CPU has
// AES instructions, AES-GCM is several times faster than chacha20-poly1305
// in Go (which has no assembly for it on amd64), so chacha20 is left out.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	cfg := &gossh.ServerConfig{}
	ciphers := []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
	if !hasAESHardware() {
		ciphers = append([]string{"chacha20-poly1305@openssh.com"}, ciphers...)
	}
	cfg.Ciphers = ciphers
	s.authCallbacks(ctx, cfg) // banners and proven keys: sshd/login.go
	return cfg
}

func hasAESHardware() bool {
	return cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ || cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
}

// sessionChannel accepts a session channel and filters its requests before
// gliderlabs sees them: it refuses agent and X11 forwarding, which
// gliderlabs would accept, and environment variables sshelf does not use.
// At most maxChannelsPerConn session channels are open on one connection
// at once (OpenSSH's MaxSessions): the session limits count sessions that
// run a command, and a channel that never asks for one would escape them.
func (s *Server) sessionChannel(srv *ssh.Server, sc *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	release := func() {}
	if c, ok := ctx.Value(connKey).(*conn); ok {
		if c.channels.Add(1) > maxChannelsPerConn {
			c.channels.Add(-1)
			newChan.Reject(gossh.ResourceShortage, "too many sessions on one connection")
			return
		}
		release = func() { c.channels.Add(-1) }
	}
	s.watch.add(ctx, sc)
	refusedEnv := func(name string) {
		// Logged so that a user whose SetEnv has no effect can be told
		// why; the locale OpenSSH sends with every session only at debug.
		level := slog.LevelInfo
		if name == "LANG" || strings.HasPrefix(name, "LC_") {
			level = slog.LevelDebug
		}
		s.log.Log(ctx, level, "env refused", "user", sc.User(), "addr", sc.RemoteAddr().String(),
			"name", printable.String(truncate(name, 64)))
	}
	ssh.DefaultSessionHandler(srv, sc, filteredChannel{newChan, release, refusedEnv}, ctx)
}

// maxChannelsPerConn is OpenSSH's default MaxSessions.
const maxChannelsPerConn = 10

type filteredChannel struct {
	gossh.NewChannel
	release    func() // when the channel is closed
	refusedEnv func(name string)
}

func (c filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	release := sync.OnceFunc(c.release)
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		release()
		return nil, nil, err
	}
	// The place is given back when the server closes the channel, before
	// the client can hear of it and open the next one, or when the client
	// closes it first (x/crypto then closes reqs).
	ch = &readAheadChannel{Channel: &releasingChannel{Channel: ch, release: release}}
	out := make(chan *gossh.Request)
	go func() {
		defer release()
		defer close(out)
		for req := range reqs {
			if refuseRequest(req, c.refusedEnv) {
				if req.WantReply {
					req.Reply(false, nil)
				}
				continue
			}
			out <- req
		}
	}()
	return ch, out, nil
}

// releasingChannel gives back its place on the connection when closed.
type releasingChannel struct {
	gossh.Channel
	release func()
}

func (c *releasingChannel) Close() error {
	c.release()
	return c.Channel.Close()
}

func refuseRequest(req *gossh.Request, refusedEnv func(string)) bool {
	switch req.Type {
	case "auth-agent-req@openssh.com", "auth-agent-req", "x11-req":
		return true
	case "env":
		var kv struct{ Key, Value string }
		if gossh.Unmarshal(req.Payload, &kv) != nil {
			return true
		}
		if !ops.IsSetting(kv.Key) { // the session settings only
			refusedEnv(kv.Key)
			return true
		}
		return false
	}
	return strings.HasPrefix(req.Type, "tcpip") || strings.HasPrefix(req.Type, "streamlocal")
}

// readAheadSize is how much readAheadChannel takes from the channel at once.
const readAheadSize = 64 << 10

var readAheadBufs = sync.Pool{New: func() any { b := make([]byte, readAheadSize); return &b }}

// readAheadChannel reads a session channel in large pieces. x/crypto/ssh
// answers every Read that returns data with a window adjustment, an SSH
// packet and a system call of its own, and pkg/sftp reads each SFTP
// packet in two small reads (length, then body): a profile of an SFTP
// upload showed those adjustments at 9% of the server's CPU. Reads of
// readAheadSize or more (exec's copies) go straight through; a buffer is
// held only while it has bytes left.
type readAheadChannel struct {
	gossh.Channel
	mu  sync.Mutex
	buf *[]byte // unread bytes at buf[pos:], or nil
	pos int
	err error // what the channel returned with the buffered bytes
}

func (c *readAheadChannel) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		if c.err != nil || len(p) >= readAheadSize {
			if c.err != nil {
				return 0, c.err
			}
			return c.Channel.Read(p)
		}
		b := readAheadBufs.Get().(*[]byte)
		n, err := c.Channel.Read((*b)[:readAheadSize])
		if n == 0 {
			readAheadBufs.Put(b)
			return 0, err
		}
		*b = (*b)[:n]
		c.buf, c.pos, c.err = b, 0, err
	}
	n := copy(p, (*c.buf)[c.pos:])
	c.pos += n
	if c.pos == len(*c.buf) {
		readAheadBufs.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
