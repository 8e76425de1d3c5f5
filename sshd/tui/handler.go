// Package tui is the terminal user interface served to `ssh -t` sessions
// with no command: a Bubble Tea program over the session's channel.
package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/gliderlabs/ssh"
	"github.com/muesli/termenv"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
)

// Handler returns the TUI session handler over svc; observe (the server's
// audit observer, sshd.Config.Observe) is told of every change.
func Handler(svc *files.Service, observe ops.Observer) func(ssh.Session) {
	return func(sess ssh.Session) {
		pty, winCh, _ := sess.Pty()
		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()

		m := New(Options{
			Files: svc, User: sess.User(), Addr: sess.LocalAddr().String(),
			Observe: observe, Client: sess.RemoteAddr().String(),
			Renderer: sessionRenderer(sess, pty.Term), Context: ctx,
			Width: pty.Window.Width, Height: pty.Window.Height,
		})
		p := tea.NewProgram(m,
			tea.WithInput(sess), tea.WithOutput(sess),
			tea.WithAltScreen(),
			tea.WithContext(ctx),
			// Signals belong to the server process, not to one session.
			tea.WithoutSignalHandler(),
			tea.WithEnvironment(sessionEnv(sess, pty.Term)),
		)
		// The session's channel is no terminal on this side, so Bubble Tea
		// cannot see resizes itself: forward the client's window changes.
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case w, ok := <-winCh:
					if !ok {
						return
					}
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		_, err := p.Run()
		code := 0
		if err != nil && ctx.Err() == nil {
			code = 1 // the program failed, not the user quitting or leaving
		}
		sess.Exit(code)
	}
}

// sessionEnv is the client's environment with the TERM of its pty request,
// which is what describes the terminal on the other end.
func sessionEnv(sess ssh.Session, term string) []string {
	return append(append([]string(nil), sess.Environ()...), "TERM="+term)
}

// sessionRenderer styles for the client's terminal. The channel is not a
// tty here, so the profile comes from TERM (and COLORTERM) alone; "dumb"
// or no TERM gets plain text, which the layout stays readable in.
func sessionRenderer(sess ssh.Session, term string) *lipgloss.Renderer {
	if term == "" || term == "dumb" {
		return lipgloss.NewRenderer(sess, termenv.WithProfile(termenv.Ascii))
	}
	r := lipgloss.NewRenderer(sess,
		termenv.WithEnvironment(environ(sessionEnv(sess, term))),
		termenv.WithUnsafe(),
		termenv.WithColorCache(true))
	// Asking the terminal for its background would read the session's
	// input behind Bubble Tea's back; the styles use no background color.
	r.SetHasDarkBackground(true)
	return r
}

// environ serves termenv from a session's variables.
type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(key string) string {
	v := ""
	for _, kv := range e {
		if len(kv) > len(key) && kv[:len(key)+1] == key+"=" {
			v = kv[len(key)+1:] // the last one wins, as with TERM above
		}
	}
	return v
}
