package tui

import (
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
)

// actionDoneMsg reports a change made by the service, or its refusal.
type actionDoneMsg struct {
	verb string // past tense, for the status line: "deleted"
	name string
	err  error
}

// errMismatch is the TUI's own check that a new password was typed the
// same twice; it is about typing, not a rule.
var errMismatch = errors.New("the two passwords differ; nothing changed")

// run calls fn, the command named command (its name in internal/ops'
// table), on the service off the UI loop: changes may hash a password or
// wait out a throttle, and the screen must stay live. The outcome goes to
// the observer, as every way in reports its operations.
func (m *Model) run(command, verb, name string, fn func() error) tea.Cmd {
	m.busy = true
	m.setStatus("working...")
	return func() tea.Msg {
		start := time.Now()
		err := fn()
		if m.observe != nil {
			m.observe(m.ctx, ops.Event{User: m.user, Addr: m.client, Transport: "tui",
				Command: command, Name: name, Err: err, Elapsed: time.Since(start)})
		}
		return actionDoneMsg{verb: verb, name: name, err: err}
	}
}

// ready returns the action's target, or nil (with a reason shown) when
// there is none or another change is still running.
func (m *Model) ready() *files.File {
	if m.busy {
		m.setStatus("still working on the last change")
		return nil
	}
	f := m.target()
	if f == nil {
		m.setStatus("no file selected")
	}
	return f
}

// askDelete confirms, then deletes. It is offered on the user's own files
// only, but if tried on another's the service's refusal is what shows.
func (m *Model) askDelete() tea.Cmd {
	f := m.ready()
	if f == nil {
		return nil
	}
	name := f.Name
	m.openPrompt(&prompt{
		yesNo: true,
		steps: []step{{label: "Delete " + quoteName(name) + "? (y/n)"}},
		done: func(m *Model, _ []string) tea.Cmd {
			return m.run("rm", "deleted", name, func() error { return m.svc.Remove(m.ctx, m.user, name) })
		},
	})
	return nil
}

func (m *Model) startHide(hidden bool) tea.Cmd {
	f := m.ready()
	if f == nil {
		return nil
	}
	name, command, verb := f.Name, "unhide", "unhid"
	if hidden {
		command, verb = "hide", "hid"
	}
	return m.run(command, verb, name, func() error { return m.svc.SetHidden(m.ctx, m.user, name, hidden) })
}

// askProtect asks for the new download password twice, and first for the
// current one if the file is protected already.
func (m *Model) askProtect() tea.Cmd {
	f := m.ready()
	if f == nil {
		return nil
	}
	name, protected := f.Name, f.Protected
	var steps []step
	if protected {
		steps = append(steps, step{label: "Current download password", masked: true})
	}
	steps = append(steps,
		step{label: "New download password", masked: true},
		step{label: "Repeat new password", masked: true})
	m.openPrompt(&prompt{
		steps: steps,
		done: func(m *Model, v []string) tea.Cmd {
			old := ""
			if protected {
				old, v = v[0], v[1:]
			}
			if v[0] != v[1] {
				m.status, m.statusErr = "error: "+errMismatch.Error(), true
				return nil
			}
			return m.run("protect", "protected", name, func() error { return m.svc.Protect(m.ctx, m.user, name, v[0], old) })
		},
		cancel: func(m *Model) { m.setStatus("cancelled") },
	})
	return nil
}

func (m *Model) askUnprotect() tea.Cmd {
	f := m.ready()
	if f == nil {
		return nil
	}
	name := f.Name
	m.openPrompt(&prompt{
		steps: []step{{label: "Current download password", masked: true}},
		done: func(m *Model, v []string) tea.Cmd {
			return m.run("unprotect", "unprotected", name, func() error { return m.svc.Unprotect(m.ctx, m.user, name, v[0]) })
		},
		cancel: func(m *Model) { m.setStatus("cancelled") },
	})
	return nil
}

// actionDone shows the outcome and refreshes what may have changed.
func (m *Model) actionDone(msg actionDoneMsg) tea.Cmd {
	m.busy = false
	if msg.err != nil {
		m.status, m.statusErr = "error: "+quoteName(msg.name)+": "+files.Reason(msg.err), true
		return nil
	}
	m.setStatus(msg.verb + " " + quoteName(msg.name))
	if msg.verb == "hid" {
		m.status += " (o opens it by name)"
	}
	m.reload()
	if m.screen == screenInfo && m.info != nil && m.info.Name == msg.name {
		f, err := m.svc.Info(m.ctx, m.user, msg.name)
		if err != nil {
			// Deleted: nothing left to show.
			m.info, m.screen = nil, screenList
			return nil
		}
		m.info = &f
	}
	return nil
}
