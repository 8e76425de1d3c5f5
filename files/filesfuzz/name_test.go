// Package filesfuzz fuzzes the rules' pure functions in a test binary of
// their own: files' tests link SQLite, whose coverage counters made the
// fuzzer several times slower (each call between the fuzzer's processes
// carries all of them).
package filesfuzz

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sshelf/sshelf/files"
)

// FuzzValidateName checks that files.ValidateName never panics and that whatever
// it accepts obeys the contract's rule for names: NFC, no control, format
// or separator character.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{
		"a", "file.txt", "my file.txt", "résumé", "日本語", "🙂", ".hidden", "...",
		"", ".", "..", "/", "a/b", "a\x00b", "\x01", "\x7f", "\u0085", "\u009f", "\u00a0",
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe6\x97", strings.Repeat("x", 255),
		strings.Repeat("x", 256), strings.Repeat("é", 128), "\u2028", "\u2029", "\ufeff", "\U0010ffff",
		"caf\u00e9", "cafe\u0301", "\u202e", "\u200b", "\u00ad", "\U000e0041", "\u212a", "\u1112\u1161",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := files.ValidateName(name)
		if err != nil {
			if !errors.Is(err, files.ErrBadName) {
				t.Fatalf("ValidateName(%q) = %v: does not match ErrBadName", name, err)
			}
			if files.Reason(err) == "internal error" {
				t.Fatalf("ValidateName(%q) = %v: not a user error", name, err)
			}
			return
		}
		switch {
		case len(name) < 1 || len(name) > files.MaxNameLen:
			t.Fatalf("accepted %q of %d bytes", name, len(name))
		case !utf8.ValidString(name):
			t.Fatalf("accepted invalid UTF-8 %q", name)
		case strings.ContainsRune(name, '/'):
			t.Fatalf("accepted %q containing '/'", name)
		case name == "." || name == "..":
			t.Fatalf("accepted %q", name)
		}
		if !norm.NFC.IsNormalString(name) {
			t.Fatalf("accepted %q: not NFC", name)
		}
		for _, r := range name {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("accepted %q containing %U", name, r)
			}
		}

	})
}
