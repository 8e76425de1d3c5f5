package sshd

import "github.com/gliderlabs/ssh"

// Hooks is told of logins and sessions, for metrics, without sshd
// depending on how they are counted.
type Hooks interface {
	// Login is told of each login attempt the log records: err nil when
	// it succeeded.
	Login(method string, err error)
	// SessionStarted is told of a session of transport (exec, sshelf,
	// sftp, scp, tui) taking its slot; end is called when it ends.
	SessionStarted(transport string) (end func())
}

type noHooks struct{}

func (noHooks) Login(string, error)                {}
func (noHooks) SessionStarted(string) (end func()) { return func() {} }

// sessionTransport is the way in of a session on the "session" channel's
// default handler, as handleSession dispatches it.
func (s *Server) sessionTransport(sess sessionInfo) string {
	if sess.RawCommand() == "" {
		if _, _, isPty := sess.Pty(); isPty && s.cfg.TUI != nil {
			return "tui"
		}
		return "exec"
	}
	if _, ok := SCPCommand(sess.RawCommand()); ok {
		return "scp"
	}
	return "exec"
}

// sessionInfo is what sessionTransport reads of a session.
type sessionInfo interface {
	RawCommand() string
	Pty() (ssh.Pty, <-chan ssh.Window, bool)
}

// way is a transport func for a subsystem, whose way in is its name.
func way(name string) func(sessionInfo) string {
	return func(sessionInfo) string { return name }
}
