// Package sshd is sshelf's SSH transport: a gliderlabs/ssh server whose
// exec commands, sshelf subsystem and SFTP subsystem translate requests
// into calls on files.Service and auth.Accounts. No rule lives here.
package sshd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/clientaddr"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/sessions"
)

// Config is what a Server needs.
type Config struct {
	Files       *files.Service
	Accounts    *auth.Accounts
	HostKeys    []gossh.Signer
	Logger      *slog.Logger
	IdleTimeout time.Duration // a connection with no traffic this long is closed
	AuthTimeout time.Duration // handshake and authentication must finish within it
	// MaxSessions, MaxSessionsPerUser and MaxSessionsPerAddress bound
	// concurrent sessions; 0: no bound.
	MaxSessions           int
	MaxSessionsPerUser    int
	MaxSessionsPerAddress int
	// SessionCounter, if set, counts the sessions per account and per
	// address across every server sharing it (MaxSessions stays this
	// server's own); nil: counted in this process.
	SessionCounter sessions.Counter
	// MaxUnauthenticated and MaxUnauthenticatedPerAddress bound connections
	// that have not logged in yet, MaxConnectionsPerAddress all connections
	// from one address; one over a bound is closed before its handshake.
	// 0: no bound.
	MaxUnauthenticated           int
	MaxUnauthenticatedPerAddress int
	MaxConnectionsPerAddress     int
	// TUI, if set, runs for a session with a terminal and no command.
	TUI TUIFunc
	// Observe is told of every operation; nil: the audit line on Logger
	// (ops.LogObserver). Give the TUI the same one.
	Observe ops.Observer
	// Hooks, if set, is told of logins and sessions (metrics).
	Hooks Hooks
}

// Server serves sshelf over SSH.
type Server struct {
	cfg      Config
	log      *slog.Logger
	ops      *ops.Runner // the commands, and the observer every transport reports to
	ssh      *ssh.Server
	sessions *sessionLimiter
	watch    *accountWatch // nil without Accounts
	conns    *connLimiter
	refusals *refusalLog
}

type ctxKey string

// connKey holds a connection's *conn, for markAuthed.
const connKey ctxKey = "sshelf-conn"

// New builds a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 30 * time.Second
	}
	if cfg.Observe == nil {
		cfg.Observe = ops.LogObserver(cfg.Logger)
	}
	if cfg.Hooks == nil {
		cfg.Hooks = noHooks{}
	}
	s := &Server{cfg: cfg, log: cfg.Logger,
		ops:      &ops.Runner{Files: cfg.Files, Accounts: cfg.Accounts, Observe: cfg.Observe},
		sessions: newSessionLimiter(cfg.MaxSessions, cfg.MaxSessionsPerUser, cfg.MaxSessionsPerAddress, cfg.SessionCounter),
		conns:    newConnLimiter(cfg.MaxUnauthenticated, cfg.MaxUnauthenticatedPerAddress, cfg.MaxConnectionsPerAddress),
		refusals: &refusalLog{log: cfg.Logger, every: 10 * time.Second},
	}
	if cfg.Accounts != nil {
		s.watch = newAccountWatch(cfg.Accounts, cfg.Logger, AccountCheckInterval)
	}
	s.ssh = &ssh.Server{
		Version:                    "sshelf",
		HostSigners:                toSigners(cfg.HostKeys),
		Handler:                    s.limited(s.sessionTransport, s.handleSession, refuseOnStderr),
		PasswordHandler:            s.passwordAuth,
		KeyboardInteractiveHandler: s.keyboardInteractiveAuth,
		PublicKeyHandler:           s.publicKeyAuth,
		ConnCallback:               s.onConnect,
		ServerConfigCallback:       s.serverConfig,
		IdleTimeout:                cfg.IdleTimeout,
		ChannelHandlers:            map[string]ssh.ChannelHandler{"session": s.sessionChannel},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{
			"sshelf": ssh.SubsystemHandler(s.limited(way("sshelf"), s.handleSubsystem, refuseFramed)),
			"sftp":   ssh.SubsystemHandler(s.limited(way("sftp"), s.handleSFTP, refuseOnStderr)),
		},
		// No port forwarding: gliderlabs refuses it when these callbacks are
		// nil, and no "tcpip-forward" request handler is registered.
	}
	return s
}

func toSigners(keys []gossh.Signer) []ssh.Signer {
	out := make([]ssh.Signer, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	defer s.watch.start()()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for open ones to end until
// ctx is done; then it closes the rest, which aborts their uploads.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.ssh.Shutdown(ctx)
	if err != nil {
		s.ssh.Close()
	}
	return err
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.ssh.Close() }

// onConnect admits a connection within the connection limits, or closes
// it at once, and gives it a deadline for its handshake and
// authentication.
func (s *Server) onConnect(ctx ssh.Context, nc net.Conn) net.Conn {
	host := clientaddr.Host(nc.RemoteAddr().String())
	slot, err := s.conns.admit(host)
	if err != nil {
		s.refusals.refused(host, err)
		// SSH lets a server send lines before its version; OpenSSH shows
		// them with -v. gliderlabs closes the connection when we return nil.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(nc, "sshelf: "+err.Error()+"\r\n")
		return nil
	}
	c := &conn{Conn: nc, slot: slot}
	ctx.SetValue(connKey, c)
	// Every layer below counts and queues per client address.
	ctx.SetValue(clientaddr.Key, host)
	// Set before it can fire: Close reads it.
	c.deadline = time.AfterFunc(time.Duration(math.MaxInt64), func() {
		if !c.authed.Load() {
			c.Close()
		}
	})
	c.deadline.Reset(s.cfg.AuthTimeout)
	return c
}

// conn is a server connection: it holds its place in the connection
// limits until it closes, and reads through a large buffer once logged in.
type conn struct {
	net.Conn
	slot     *connSlot
	deadline *time.Timer // of authentication
	authed   atomic.Bool
	channels atomic.Int32 // session channels open (sessionChannel)
	// r is made at the first read after login, so that a connection still
	// in its handshake (the ones a flood holds) costs no buffer. Reads
	// come from one goroutine at a time (the handshake's for the version
	// line, then x/crypto/ssh's read loop), so r needs no lock.
	r *bufio.Reader
}

// connReadBuffer is how much is read from the socket at once. x/crypto/ssh
// reads each packet in two or more calls (length, then body) through a
// 4 KiB buffer: this turns a stream of 32 KiB packets into a few large
// reads instead of two system calls per packet.
const connReadBuffer = 128 << 10

func (c *conn) Read(p []byte) (int, error) {
	if c.r == nil {
		if !c.authed.Load() {
			return c.Conn.Read(p)
		}
		c.r = bufio.NewReaderSize(c.Conn, connReadBuffer)
	}
	return c.r.Read(p)
}

// Close closes the connection and frees its slot (once, however often
// gliderlabs, x/crypto and the deadline call it).
func (c *conn) Close() error {
	if c.deadline != nil {
		c.deadline.Stop()
	}
	c.slot.release()
	return c.Conn.Close()
}

func (c *conn) authenticated() {
	c.authed.Store(true)
	c.deadline.Stop()
	c.slot.authenticated()
}

func markAuthed(ctx ssh.Context) {
	if c, ok := ctx.Value(connKey).(*conn); ok {
		c.authenticated()
	}
}

// TUIFunc serves an interactive session on a terminal.
type TUIFunc func(ssh.Session)
