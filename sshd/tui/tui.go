// Package tui is the terminal user interface served to `ssh -t` sessions
// with no command.
package tui

import (
	"io"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/sshd"
)

// Handler returns the TUI session handler over svc.
func Handler(svc *files.Service) sshd.TUIFunc {
	return func(sess ssh.Session) {
		io.WriteString(sess, sshd.HelpText())
		sess.Exit(0)
	}
}
