package tui

import (
	"strings"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// Column widths of the table; the name takes what is left.
const (
	markW  = 2 // "> " on the selected row: visible even without styles
	sizeW  = 10
	ownerW = 12
	protW  = 4
	dateW  = 16
)

// View implements tea.Model: title, body, status line, key line, exactly
// the terminal's height so nothing scrolls.
func (m *Model) View() string {
	var body []string
	switch m.screen {
	case screenHelp:
		body = m.helpLines()
	case screenInfo:
		if m.info != nil {
			body = m.infoLines(*m.info, m.width)
		}
	default:
		body = m.tableLines()
	}
	bodyH := max(m.height-3, 0)
	if len(body) > bodyH {
		body = body[:bodyH]
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.titleLine())
	lines = append(lines, body...)
	for len(lines) < 1+bodyH {
		lines = append(lines, "")
	}
	lines = append(lines, m.statusLine(), m.keyLine())
	return strings.Join(lines[:min(len(lines), m.height)], "\n")
}

func (m *Model) titleLine() string {
	left := " sshelf  " + m.user + "@" + m.addr
	right := "sort: " + m.sortLabel()
	if m.filter != "" {
		right = "filter: " + m.filter + "  " + right
	}
	right += " "
	gap := m.width - len([]rune(left)) - len([]rune(right))
	if gap < 1 {
		return m.st.title.Render(fit(left, m.width))
	}
	return m.st.title.Render(left + strings.Repeat(" ", gap) + right)
}

// showDate reports whether the uploaded column fits beside a usable name.
func (m *Model) showDate() bool { return m.width >= 70 }

func (m *Model) nameWidth() int {
	w := m.width - markW - 3 - sizeW - ownerW - protW
	if m.showDate() {
		w -= dateW + 1
	}
	return max(w, 8)
}

func (m *Model) row(mark, name, size, owner, prot, date string) string {
	s := fit(mark, markW) + fit(name, m.nameWidth()) + " " + fitRight(size, sizeW) + " " +
		fit(owner, ownerW) + " " + fit(prot, protW)
	if m.showDate() {
		s += " " + fit(date, dateW)
	}
	return fit(s, m.width)
}

func (m *Model) tableLines() []string {
	out := []string{m.st.header.Render(m.row("", "NAME", "SIZE", "OWNER", "PROT", "UPLOADED (UTC)"))}
	rows := m.win.visible(m.listHeight())
	if len(rows) == 0 {
		empty := "  no public files yet (upload: ssh ... put NAME < FILE)"
		if m.filter != "" {
			empty = "  no public file name contains " + quoteName(m.filter)
		}
		return append(out, empty)
	}
	for i, f := range rows {
		mark := ""
		if m.win.top+i == m.win.sel {
			mark = ">"
		}
		// A name stored before the name rule grew stricter may still hold
		// a bidi control or a zero-width character: show it escaped.
		line := m.row(mark, printable.String(f.Name), humanSize(f.Size), f.Owner, yesNo(f.Protected), tableTime(f.Uploaded))
		if mark != "" {
			line = m.st.selected.Render(line)
		}
		out = append(out, line)
	}
	return out
}

func (m *Model) helpLines() []string {
	out := []string{m.st.label.Render("Keys") + "  (any key returns)"}
	for _, kv := range keyHelp {
		out = append(out, fit("  "+m.st.key.Render(fit(kv[0], 15))+" "+kv[1], m.width))
	}
	out = append(out, "", "Hidden files are never listed; o opens one by its exact name.")
	return out
}

func (m *Model) statusLine() string {
	if p := m.prompt; p != nil {
		label := p.current().label
		if p.yesNo {
			return m.st.key.Render(fit(label, m.width))
		}
		return m.st.key.Render(label+": ") + p.input.View()
	}
	if m.statusErr {
		return m.st.err.Render(fit(m.status, m.width))
	}
	return fit(m.status, m.width)
}

// keyLine lists the keys that do something here, the file's owner
// actions only on one's own files, cut to the width.
func (m *Model) keyLine() string {
	// Help and quit come first so a narrow screen never cuts them.
	keys := [][2]string{{"?", "help"}, {"q", "quit"}}
	// Then what may be done to this file, then the rest; `?` lists all.
	keys = append(keys, m.ownerKeys(m.target())...)
	switch m.screen {
	case screenHelp:
		return ""
	case screenInfo:
		keys = append(keys, [2]string{"esc", "back"})
	default:
		keys = append(keys, [2]string{"enter", "info"}, [2]string{"/", "filter"}, [2]string{"s", "sort"})
	}
	keys = append(keys, [2]string{"o", "open"})
	var b strings.Builder
	used := 0
	for _, k := range keys {
		w := len(k[0]) + 1 + len(k[1]) + 2
		if used+w > m.width {
			break
		}
		b.WriteString(m.st.key.Render(k[0]) + " " + k[1] + "  ")
		used += w
	}
	return b.String()
}

// ownerKeys are the changes the rules allow the user on f.
func (m *Model) ownerKeys(f *files.File) [][2]string {
	if !m.owns(f) {
		return nil
	}
	keys := [][2]string{{"d", "delete"}}
	if f.Hidden {
		keys = append(keys, [2]string{"u", "unhide"})
	} else {
		keys = append(keys, [2]string{"h", "hide"})
	}
	keys = append(keys, [2]string{"p", "protect"})
	if f.Protected {
		keys = append(keys, [2]string{"x", "unprotect"})
	}
	return keys
}
