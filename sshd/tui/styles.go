package tui

import "github.com/charmbracelet/lipgloss"

// styles are built on the session's renderer, so they follow the client's
// terminal, not the server's stdout. Nothing depends on color alone: the
// selection is reverse and bold and also marked with ">", errors say
// "error:", flags are words.
type styles struct {
	title    lipgloss.Style
	header   lipgloss.Style
	selected lipgloss.Style
	key      lipgloss.Style
	label    lipgloss.Style
	err      lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	return styles{
		title:    r.NewStyle().Reverse(true).Bold(true),
		header:   r.NewStyle().Bold(true).Underline(true),
		selected: r.NewStyle().Reverse(true).Bold(true),
		key:      r.NewStyle().Bold(true),
		label:    r.NewStyle().Bold(true),
		err:      r.NewStyle().Bold(true),
	}
}
