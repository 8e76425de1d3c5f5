package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// humanSize formats n bytes in binary units, short enough for a column.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// tableTime is the uploaded column: UTC, to the minute.
func tableTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// yesNo renders a flag as a word, so it reads without color.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fit cuts s to width display cells, marking a cut with "~" (ASCII, so it
// shows on any terminal), and pads it to exactly width.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > width {
		s = ansi.Truncate(s, width, "~")
	}
	return s + strings.Repeat(" ", max(width-ansi.StringWidth(s), 0))
}

// fitRight is fit aligned right, for numbers.
func fitRight(s string, width int) string {
	if ansi.StringWidth(s) >= width {
		return fit(s, width)
	}
	return strings.Repeat(" ", width-ansi.StringWidth(s)) + s
}

// wrap breaks s into lines of exactly width cells (the last one shorter),
// keeping every character, spaces included, so a wrapped command line
// copied from the screen is still the command.
func wrap(s string, width int) []string {
	if width <= 0 {
		return []string{s}
	}
	return strings.Split(ansi.Hardwrap(s, width, true), "\n")
}
