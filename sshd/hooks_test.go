package sshd

import (
	"testing"

	"github.com/gliderlabs/ssh"
)

type fakeSession struct {
	cmd string
	pty bool
}

func (f fakeSession) RawCommand() string { return f.cmd }
func (f fakeSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	return ssh.Pty{}, nil, f.pty
}

func TestSessionTransport(t *testing.T) {
	tui := func(ssh.Session) {}
	tests := []struct {
		sess    fakeSession
		withTUI bool
		want    string
	}{
		{fakeSession{"put x", false}, true, "exec"},
		{fakeSession{"ls", true}, true, "exec"},
		{fakeSession{"", true}, true, "tui"},
		{fakeSession{"", true}, false, "exec"}, // the help text
		{fakeSession{"", false}, true, "exec"},
		{fakeSession{"scp -t .", false}, true, "scp"},
		{fakeSession{"scp -f a.txt", false}, true, "scp"},
	}
	for _, tt := range tests {
		s := &Server{}
		if tt.withTUI {
			s.cfg.TUI = tui
		}
		if got := s.sessionTransport(tt.sess); got != tt.want {
			t.Errorf("sessionTransport(%+v, TUI %v) = %q, want %q", tt.sess, tt.withTUI, got, tt.want)
		}
	}
}
