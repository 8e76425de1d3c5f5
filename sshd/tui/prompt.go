package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// prompt is the input line at the bottom: a text box (filter, name,
// masked passwords, one after another) or a yes/no question.
type prompt struct {
	steps  []step
	values []string
	input  textinput.Model
	// yesNo prompts answer with one key; their only step has no input.
	yesNo bool
	// live is called with the text after each key (the filter).
	live func(m *Model, text string)
	// done gets the values of all steps on the last enter.
	done func(m *Model, values []string) tea.Cmd
	// cancel runs on esc.
	cancel func(m *Model)
}

type step struct {
	label  string
	masked bool
	value  string // initial text
}

func (p *prompt) start(m *Model) {
	p.input = textinput.New()
	p.input.Prompt = ""
	p.input.Cursor.SetMode(cursor.CursorStatic) // no blink ticks over ssh
	p.input.Cursor.Style = m.st.selected
	p.input.CharLimit = 1024
	p.input.Width = max(m.width-len(p.current().label)-3, 10)
	s := p.current()
	if s.masked {
		// Masked, never echoed: only '*'s reach the terminal.
		p.input.EchoMode = textinput.EchoPassword
		p.input.EchoCharacter = '*'
	}
	p.input.SetValue(s.value)
	p.input.Focus()
}

func (p *prompt) current() step { return p.steps[len(p.values)] }

func (p *prompt) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// openPrompt shows p.
func (m *Model) openPrompt(p *prompt) {
	m.prompt = p
	p.start(m)
}

// promptKey handles a key while a prompt is open.
func (m *Model) promptKey(k tea.KeyMsg) tea.Cmd {
	p := m.prompt
	if p.yesNo {
		m.prompt = nil
		switch k.String() {
		case "y", "Y":
			return p.done(m, nil)
		}
		m.setStatus("cancelled")
		return nil
	}
	switch k.Type {
	case tea.KeyEsc:
		m.prompt = nil
		if p.cancel != nil {
			p.cancel(m)
		}
		return nil
	case tea.KeyEnter:
		p.values = append(p.values, p.input.Value())
		if len(p.values) < len(p.steps) {
			p.start(m)
			return nil
		}
		m.prompt = nil
		return p.done(m, p.values)
	}
	cmd := p.update(k)
	if p.live != nil {
		p.live(m, p.input.Value())
	}
	return cmd
}

// filterPrompt edits the filter, applying it as the user types.
func filterPrompt(current string) *prompt {
	return &prompt{
		steps: []step{{label: "Filter", value: current}},
		live:  func(m *Model, text string) { m.setFilter(text) },
		done: func(m *Model, v []string) tea.Cmd {
			m.setFilter(v[0])
			return nil
		},
		cancel: func(m *Model) { m.setFilter("") },
	}
}

// openPrompt asks for an exact name: the way to reach a hidden file,
// which no listing shows (rule 2).
func openPrompt() *prompt {
	return &prompt{
		steps: []step{{label: "Open file by exact name"}},
		done: func(m *Model, v []string) tea.Cmd {
			f, err := m.svc.Info(m.ctx, m.user, v[0])
			if err != nil {
				m.setErr(err)
				return nil
			}
			m.info, m.screen = &f, screenInfo
			m.setStatus("")
			return nil
		},
	}
}
