package files

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzValidateName checks that ValidateName never panics and that whatever
// it accepts obeys the contract's rule for names.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{
		"a", "file.txt", "my file.txt", "résumé", "日本語", "🙂", ".hidden", "...",
		"", ".", "..", "/", "a/b", "a\x00b", "\x01", "\x7f", "\u0085", "\u009f", "\u00a0",
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe6\x97", strings.Repeat("x", 255),
		strings.Repeat("x", 256), strings.Repeat("é", 128), "\u2028", "\ufeff", "\U0010ffff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("ValidateName(%q) = %v: does not match ErrBadName", name, err)
			}
			if Reason(err) == "internal error" {
				t.Fatalf("ValidateName(%q) = %v: not a user error", name, err)
			}
			return
		}
		switch {
		case len(name) < 1 || len(name) > MaxNameLen:
			t.Fatalf("accepted %q of %d bytes", name, len(name))
		case !utf8.ValidString(name):
			t.Fatalf("accepted invalid UTF-8 %q", name)
		case strings.ContainsRune(name, '/'):
			t.Fatalf("accepted %q containing '/'", name)
		case name == "." || name == "..":
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if unicode.IsControl(r) {
				t.Fatalf("accepted %q containing %U", name, r)
			}
		}
	})
}
