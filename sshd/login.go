package sshd

import (
	"crypto/sha256"
	"errors"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
)

// lastFailureKey holds, per connection, a digest of the last failed
// password attempt.
const lastFailureKey ctxKey = "sshelf-last-failure"

func (s *Server) passwordAuth(ctx ssh.Context, password string) bool {
	return s.login(ctx, password, "password")
}

// keyboardInteractiveAuth asks one question, "Password: ", echo off.
func (s *Server) keyboardInteractiveAuth(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
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
	err := s.cfg.Accounts.Login(ctx, ctx.User(), password, ctx.RemoteAddr().String())
	s.logLogin(ctx, method, err)
	if err != nil {
		ctx.SetValue(lastFailureKey, attempt)
		return false
	}
	markAuthed(ctx)
	return true
}

func (s *Server) publicKeyAuth(ctx ssh.Context, key ssh.PublicKey) bool {
	err := s.cfg.Accounts.LoginKey(ctx, ctx.User(), key, ctx.RemoteAddr().String())
	if err != nil {
		// Every client offers its keys before a password: an unknown key
		// is routine, so only a lockout is worth a log line.
		if errors.Is(err, auth.ErrLocked) {
			s.logLogin(ctx, "publickey", err)
		}
		return false
	}
	s.logLogin(ctx, "publickey", nil)
	markAuthed(ctx)
	return true
}

func (s *Server) logLogin(ctx ssh.Context, method string, err error) {
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	s.log.Info("login", "user", ctx.User(), "addr", ctx.RemoteAddr().String(), "method", method, "result", result)
}
