// Package sshd is sshelf's SSH transport: a gliderlabs/ssh server whose
// exec commands, sshelf subsystem and SFTP subsystem translate requests
// into calls on files.Service and auth.Accounts. No rule lives here.
package sshd

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/clientaddr"
)

// Config is what a Server needs.
type Config struct {
	Files       *files.Service
	Accounts    *auth.Accounts
	HostKeys    []gossh.Signer
	Logger      *slog.Logger
	IdleTimeout time.Duration // a connection with no traffic this long is closed
	AuthTimeout time.Duration // handshake and authentication must finish within it
	// MaxSessions and MaxSessionsPerUser bound concurrent sessions; 0: no bound.
	MaxSessions        int
	MaxSessionsPerUser int
	// TUI, if set, runs for a session with a terminal and no command.
	TUI TUIFunc
}

// Server serves sshelf over SSH.
type Server struct {
	cfg      Config
	log      *slog.Logger
	ssh      *ssh.Server
	sessions *sessionLimiter
	watch    *accountWatch // nil without Accounts
}

type ctxKey string

const authedKey ctxKey = "sshelf-authed"

// New builds a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 30 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, sessions: newSessionLimiter(cfg.MaxSessions, cfg.MaxSessionsPerUser)}
	if cfg.Accounts != nil {
		s.watch = newAccountWatch(cfg.Accounts, cfg.Logger, AccountCheckInterval)
	}
	s.ssh = &ssh.Server{
		Version:                    "sshelf",
		HostSigners:                toSigners(cfg.HostKeys),
		Handler:                    s.limited(s.handleSession, refuseOnStderr),
		PasswordHandler:            s.passwordAuth,
		KeyboardInteractiveHandler: s.keyboardInteractiveAuth,
		PublicKeyHandler:           s.publicKeyAuth,
		ConnCallback:               s.onConnect,
		ServerConfigCallback:       s.serverConfig,
		IdleTimeout:                cfg.IdleTimeout,
		ChannelHandlers:            map[string]ssh.ChannelHandler{"session": s.sessionChannel},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{
			"sshelf": ssh.SubsystemHandler(s.limited(s.handleSubsystem, refuseFramed)),
			"sftp":   ssh.SubsystemHandler(s.limited(s.handleSFTP, refuseOnStderr)),
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

// onConnect gives each connection a deadline for its handshake and
// authentication.
func (s *Server) onConnect(ctx ssh.Context, conn net.Conn) net.Conn {
	authed := new(atomic.Bool)
	ctx.SetValue(authedKey, authed)
	// Every layer below counts and queues per client address.
	ctx.SetValue(clientaddr.Key, clientaddr.Host(conn.RemoteAddr().String()))
	time.AfterFunc(s.cfg.AuthTimeout, func() {
		if !authed.Load() {
			conn.Close()
		}
	})
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, connReadBuffer)}
}

// connReadBuffer is how much is read from the socket at once. x/crypto/ssh
// reads each packet in two or more calls (length, then body) through a
// 4 KiB buffer: this turns a stream of 32 KiB packets into a few large
// reads instead of two system calls per packet.
const connReadBuffer = 128 << 10

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func markAuthed(ctx ssh.Context) {
	if b, ok := ctx.Value(authedKey).(*atomic.Bool); ok {
		b.Store(true)
	}
}

// TUIFunc serves an interactive session on a terminal.
type TUIFunc func(ssh.Session)
