package sshd

import (
	"errors"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshelf/sshelf/auth"
)

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
	err := s.cfg.Accounts.Login(ctx, ctx.User(), password, ctx.RemoteAddr().String())
	s.logLogin(ctx, method, err)
	if err != nil {
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
