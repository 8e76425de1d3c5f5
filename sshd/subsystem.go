package sshd

import "github.com/gliderlabs/ssh"

func (s *Server) handleSubsystem(sess ssh.Session) {
	sess.Exit(1)
}

func (s *Server) handleSFTP(sess ssh.Session) {
	sess.Exit(1)
}
