// Package printable escapes text a client chose (file names, command
// words) before the server echoes it in an error line, a status message,
// a log line or a screen, so that no byte of it can move a terminal's
// cursor, recolour it, reorder what follows (bidi controls), hide itself
// (zero-width characters) or break a line.
package printable

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns s as it should be shown: unchanged when every rune is
// printable (so "日本語.txt", "é" and "a\b" read as typed), else quoted the
// way Go quotes strings, without the outer quotes: invalid bytes as \xNN,
// C0 controls as \n, \t or \x1b, DEL as \x7f, C1 controls and format
// characters as \u0085 or \u202e; then backslashes and double quotes are
// escaped too, so that a real backslash in the name reads as one.
func String(s string) string {
	if plain(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// Line escapes only what is not printable in s, rune by rune, leaving
// backslashes alone: a last guard for a whole message (already made of
// escaped names and the server's own words) that must stay one line.
func Line(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// plain reports whether s is valid UTF-8 of printable runes only: ASCII
// space and Unicode letters, marks, numbers, punctuation and symbols.
// Everything else (controls, format characters, separators other than
// the space, unassigned code points) is escaped.
func plain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !strconv.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}
