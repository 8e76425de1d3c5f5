package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshelf/sshelf/files"
)

// keyHelp is the help screen, one key a line; the same keys work on the
// list and on the info screen, where they act on the file shown.
var keyHelp = [][2]string{
	{"up/down, k/j", "move"},
	{"pgup/pgdn", "move a screen"},
	{"home/end, g/G", "first / last file"},
	{"enter, i", "info: every field and download commands"},
	{"esc", "back to the list (clears the filter there)"},
	{"/", "filter by name (enter keeps it, esc clears it)"},
	{"s", "sort by name, size, date (in turn)"},
	{"r", "reverse the order"},
	{"o", "open a file by its exact name (also hidden ones)"},
	{"d", "delete (your files; asks to confirm)"},
	{"h / u", "hide / unhide (your files)"},
	{"p", "protect with a download password (your files)"},
	{"x", "unprotect (your files; needs the password)"},
	{"ctrl+r", "reload"},
	{"?", "this help"},
	{"q, ctrl+c", "quit"},
}

// key handles a key when no input line is open.
func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if m.screen == screenHelp {
		m.screen = m.back
		return nil
	}
	switch k.String() {
	case "q":
		return tea.Quit
	case "?":
		m.back, m.screen = m.screen, screenHelp
		return nil
	case "ctrl+r":
		m.reload()
		return nil
	case "o":
		m.openPrompt(openPrompt())
		return nil
	case "d":
		return m.askDelete()
	case "h":
		return m.startHide(true)
	case "u":
		return m.startHide(false)
	case "p":
		return m.askProtect()
	case "x":
		return m.askUnprotect()
	}
	if m.screen == screenInfo {
		switch k.String() {
		case "esc", "enter", "i", "left":
			m.screen = screenList
		}
		return nil
	}
	return m.listKey(k)
}

// listKey handles the keys of the list screen.
func (m *Model) listKey(k tea.KeyMsg) tea.Cmd {
	h := m.listHeight()
	var err error
	switch k.String() {
	case "up", "k":
		err = m.win.move(m.fetch, -1, h)
	case "down", "j":
		err = m.win.move(m.fetch, 1, h)
	case "pgup", "ctrl+b":
		err = m.win.move(m.fetch, -h, h)
	case "pgdown", "ctrl+f", " ":
		err = m.win.move(m.fetch, h, h)
	case "home", "g":
		err = m.win.reset(m.fetch)
	case "end", "G":
		err = m.win.end(m.fetch, h)
	case "enter", "i", "right":
		if f := m.win.selected(); f != nil {
			info := *f
			m.info, m.screen = &info, screenInfo
		}
	case "/":
		m.openPrompt(filterPrompt(m.filter))
	case "esc":
		if m.filter != "" {
			m.setFilter("")
		}
	case "s":
		m.sort = (m.sort + 1) % 3
		m.desc = m.sort != files.SortByName // biggest and newest first
		err = m.win.reset(m.fetch)
		m.setStatus("sorted by " + m.sortLabel())
	case "r":
		m.desc = !m.desc
		err = m.win.reset(m.fetch)
		m.setStatus("sorted by " + m.sortLabel())
	}
	m.setErr(err)
	return nil
}

// sortLabel says the order in words, e.g. "size, largest first".
func (m *Model) sortLabel() string {
	switch m.sort {
	case files.SortBySize:
		if m.desc {
			return "size, largest first"
		}
		return "size, smallest first"
	case files.SortByUploaded:
		if m.desc {
			return "date, newest first"
		}
		return "date, oldest first"
	}
	if m.desc {
		return "name, Z-A"
	}
	return "name, A-Z"
}

// setFilter applies a new filter and lists from the top.
func (m *Model) setFilter(f string) {
	if f == m.filter {
		return
	}
	m.filter = f
	m.setErr(m.win.reset(m.fetch))
}

// reload re-reads the list around the selection, after a change.
func (m *Model) reload() {
	var anchor *files.File
	if f := m.win.selected(); f != nil {
		a := *f
		anchor = &a
	}
	m.setErr(m.win.reload(m.fetch, anchor, m.listHeight()))
}
