package printable

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"ASCII", "file.txt", "file.txt"},
		{"empty", "", ""},
		{"space", "my file", "my file"},
		{"backslash alone stays", `a\b`, `a\b`},
		{"quote alone stays", `a"b`, `a"b`},
		{"accented", "naïve café.txt", "naïve café.txt"},
		{"CJK", "日本語.txt", "日本語.txt"},
		{"emoji", "🙂", "🙂"},
		{"combining mark stays", "cafe\u0301", "cafe\u0301"},
		{"NUL", "a\x00b", `a\x00b`},
		{"newline", "a\nb", `a\nb`},
		{"escape", "\x1b[31mred", `\x1b[31mred`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 NEL", "bad\u0085name", `bad\u0085name`},
		{"C1 CSI", "\u009b31m", `\u009b31m`},
		{"bidi override", "evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"zero-width space", "a\u200bb", `a\u200bb`},
		{"zero-width joiner", "a\u200db", `a\u200db`},
		{"word joiner", "a\u2060b", `a\u2060b`},
		{"BOM", "\ufeffname", `\ufeffname`},
		{"soft hyphen", "a\u00adb", `a\u00adb`},
		{"tag character", "a\U000E0041", `a\U000e0041`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"paragraph separator", "a\u2029b", `a\u2029b`},
		{"NBSP", "a\u00a0b", `a\u00a0b`},
		{"invalid byte", "a\xffb", `a\xffb`},
		{"raw C1 byte", "a\x85b", `a\x85b`},
		{"backslash beside an escape", "a\\\u0085", `a\\\u0085`},
		{"quote beside an escape", "\"\n", `\"\n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkShown(t, got)
		})
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "sshelf: get: a: no such file", "sshelf: get: a: no such file"},
		{"backslashes stay", `sshelf: get: a\\\u0085: no such file`, `sshelf: get: a\\\u0085: no such file`},
		{"C1", "x\u0085y", `x\u0085y`},
		{"newline", "x\ny", `x\ny`},
		{"invalid byte", "x\xc2", `x\xc2`},
		{"bidi", "x\u202ey", `x\u202ey`},
		{"accented", "é", "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Line(tt.in)
			if got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkShown(t, got)
		})
	}
}

// checkShown fails if s holds anything a terminal or log would act on.
func checkShown(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Errorf("%q still holds %U", s, r)
		}
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"a", "a\x00", "\u0085", "\u202e", "\xff", `\`, "\"\n", strings.Repeat("é", 3)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkShown(t, String(s))
		checkShown(t, Line(s))
		if plain(s) && String(s) != s {
			t.Fatalf("String(%q) changed a printable string", s)
		}
	})
}
