package sshd

import (
	"crypto/sha256"
	"errors"
	"strconv"
	"sync"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/internal/passhash"
)

const (
	// lastFailureKey holds, per connection, a digest of the last failed
	// password attempt.
	lastFailureKey ctxKey = "sshelf-last-failure"
	// bannerKey holds the connection's *banners.
	bannerKey ctxKey = "sshelf-banners"
)

// banners sends SSH banner messages during authentication, which OpenSSH
// prints (at its default LogLevel), each text once per connection.
type banners struct {
	mu   sync.Mutex
	conn gossh.ServerPreAuthConn
	sent map[string]bool
}

// authCallbacks sets what gliderlabs/ssh does not: a handle on the
// connection before login, to send banners from the auth handlers (which
// gliderlabs reduces to a bool), and a callback once a public key is
// proven by its signature.
func (s *Server) authCallbacks(ctx ssh.Context, cfg *gossh.ServerConfig) {
	cfg.PreAuthConnCallback = func(c gossh.ServerPreAuthConn) {
		ctx.SetValue(bannerKey, &banners{conn: c, sent: map[string]bool{}})
	}
	cfg.VerifiedPublicKeyCallback = func(conn gossh.ConnMetadata, _ gossh.PublicKey, p *gossh.Permissions, _ string) (_ *gossh.Permissions, err error) {
		ok := true
		defer func() {
			if !ok {
				err = errInternal
			}
		}()
		defer s.recoverAuth(ctx, "publickey", &ok)
		if err := s.cfg.Accounts.KeyVerified(ctx, conn.User(), ctx.RemoteAddr().String()); err != nil {
			s.log.Warn("login", "user", conn.User(), "err", err)
		}
		s.logLogin(ctx, "publickey", nil)
		markAuthed(ctx)
		return p, nil
	}
}

// banner shows msg to the client as "sshelf: msg".
func banner(ctx ssh.Context, msg string) {
	b, _ := ctx.Value(bannerKey).(*banners)
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sent[msg] {
		return
	}
	b.sent[msg] = true
	_ = b.conn.SendAuthBanner("sshelf: " + msg + "\r\n")
}

// refused shows a limit's refusal to the client.
func refused(ctx ssh.Context, err error) {
	var r *auth.Refusal
	switch {
	case errors.As(err, &r):
		banner(ctx, r.Error())
	case errors.Is(err, passhash.ErrBusy):
		banner(ctx, err.Error())
	case !auth.IsAnswer(err):
		// The accounts could not be read (a shared catalog out of reach):
		// say so, rather than let the client think the password wrong.
		banner(ctx, errLoginUnavailable)
	}
}

const errLoginUnavailable = "logins cannot be checked now (the server cannot reach its catalog); try again later"

func (s *Server) passwordAuth(ctx ssh.Context, password string) (ok bool) {
	defer s.recoverAuth(ctx, "password", &ok)
	return s.login(ctx, password, "password")
}

// keyboardInteractiveAuth asks one question, "Password: ", echo off.
func (s *Server) keyboardInteractiveAuth(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) (ok bool) {
	defer s.recoverAuth(ctx, "keyboard-interactive", &ok)
	answers, err := challenge("", "", []string{"Password: "}, []bool{false})
	if err != nil || len(answers) != 1 {
		return false
	}
	return s.login(ctx, answers[0], "keyboard-interactive")
}

func (s *Server) login(ctx ssh.Context, password, method string) bool {
	// OpenSSH offers the same password by "password" and then by
	// "keyboard-interactive": one mistyped password must count as one
	// failure, not two.
	attempt := sha256.Sum256([]byte(ctx.User() + "\x00" + password))
	if last, ok := ctx.Value(lastFailureKey).([32]byte); ok && last == attempt {
		return false
	}
	created, err := s.cfg.Accounts.Authenticate(ctx, ctx.User(), password, ctx.RemoteAddr().String())
	s.logLogin(ctx, method, err)
	if err != nil {
		refused(ctx, err)
		ctx.SetValue(lastFailureKey, attempt)
		return false
	}
	if created {
		banner(ctx, "account "+ctx.User()+" created; remember this password")
	}
	markAuthed(ctx)
	return true
}

func (s *Server) publicKeyAuth(ctx ssh.Context, key ssh.PublicKey) (ok bool) {
	defer s.recoverAuth(ctx, "publickey", &ok)
	err := s.cfg.Accounts.LoginKey(ctx, ctx.User(), key, ctx.RemoteAddr().String())
	if err != nil {
		// Every client offers its keys before a password: an unknown key
		// is routine, so only a lockout is worth a log line.
		if errors.Is(err, auth.ErrLocked) {
			s.logLogin(ctx, "publickey", err)
			refused(ctx, err)
		}
		return false
	}
	// Logged, marked authenticated (for the auth timeout) and the address
	// remembered once the signature proves the key (authCallbacks): a
	// client may ask about a public key, which is no secret, without
	// holding its private half.
	return true
}

func (s *Server) logLogin(ctx ssh.Context, method string, err error) {
	s.cfg.Hooks.Login(method, err)
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	user, n := logUsername(ctx.User())
	args := []any{"user", user, "addr", ctx.RemoteAddr().String(), "method", method, "result", result}
	if n > 0 {
		args = append(args, "user_bytes", n)
	}
	s.log.Info("login", args...)
}

// maxLoggedUsername is how much of an invalid username a log line shows:
// no account name is longer.
const maxLoggedUsername = 64

// logUsername is name as a log line shows it: a valid account name as it
// is; anything else cut to its first 64 bytes and quoted with every
// control and non-ASCII character escaped, with the full length (n > 0)
// when it was cut.
func logUsername(name string) (shown string, n int) {
	if auth.ValidUsername(name) == nil {
		return name, 0
	}
	if len(name) > maxLoggedUsername {
		return strconv.QuoteToASCII(name[:maxLoggedUsername]), len(name)
	}
	return strconv.QuoteToASCII(name), 0
}
