package files

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sshelf/sshelf/internal/printable"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"one byte", "a", true},
		{"255 bytes", strings.Repeat("x", 255), true},
		{"255 bytes of multibyte UTF-8", strings.Repeat("é", 127) + "x", true},
		{"UTF-8", "résumé-日本語.txt", true},
		{"emoji", "🙂.png", true},
		{"spaces", "my file .txt", true},
		{"leading and trailing spaces", " x ", true},
		{"dots inside", "a..b", true},
		{"three dots", "...", true},
		{"leading dot", ".hidden", true},
		{"backslash", `a\b`, true},
		{"shell characters", "$(rm -rf) `x` 'q' \"d\" *?[]", true},
		{"NBSP (first non-control after C1)", "a\u00a0b", true},
		{"tilde", "~", true},
		{"CJK", "日本語.txt", true},
		{"NFC diaeresis", "na\u00efve.txt", true},
		{"NFC café", "caf\u00e9", true},
		{"NFC Hangul syllable", "\ud55c.txt", true},
		{"combining mark with no composed form", "x\u0301", true},
		{"255 bytes of CJK", strings.Repeat("日", 85), true},

		{"empty", "", false},
		{"256 bytes", strings.Repeat("x", 256), false},
		{"256 bytes of multibyte UTF-8", strings.Repeat("é", 128), false},
		{"slash", "/", false},
		{"slash inside", "a/b", false},
		{"trailing slash", "a/", false},
		{"leading slash", "/etc", false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"NUL", "a\x00b", false},
		{"NUL alone", "\x00", false},
		{"SOH", "a\x01", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"carriage return", "a\r", false},
		{"escape", "\x1b[31mred", false},
		{"unit separator", "a\x1f", false},
		{"DEL", "a\x7f", false},
		{"C1 first (U+0080)", "a\u0080", false},
		{"C1 NEL (U+0085)", "a\u0085b", false},
		{"C1 CSI (U+009B)", "\u009b31m", false},
		{"C1 last (U+009F)", "a\u009f", false},
		{"invalid UTF-8 byte", "a\xffb", false},
		{"lone continuation byte", "\x80", false},
		{"truncated sequence", "\xe6\x97", false},
		{"overlong slash", "a\xc0\xafb", false},
		{"surrogate half", "\xed\xa0\x80", false},
		{"NFD café", "cafe\u0301", false},
		{"NFD naïve", "nai\u0308ve.txt", false},
		{"NFD Hangul (conjoining jamo)", "\u1112\u1161\u11ab.txt", false},
		{"singleton that NFC replaces (Kelvin sign)", "\u212a", false},
		{"bidi override U+202E", "evil\u202etxt.exe", false},
		{"bidi isolate U+2066", "a\u2066b", false},
		{"left-to-right mark U+200E", "a\u200e", false},
		{"zero-width space U+200B", "a\u200bb", false},
		{"zero-width non-joiner U+200C", "a\u200cb", false},
		{"zero-width joiner U+200D", "a\u200db", false},
		{"word joiner U+2060", "a\u2060b", false},
		{"BOM U+FEFF", "\ufeffname", false},
		{"soft hyphen U+00AD", "a\u00adb", false},
		{"tag character U+E0041", "a\U000e0041", false},
		{"cancel tag U+E007F", "a\U000e007f", false},
		{"line separator U+2028", "a\u2028b", false},
		{"paragraph separator U+2029", "a\u2029b", false},
		{"256 bytes of CJK", strings.Repeat("日", 85) + "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateName(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateName(%q) = nil, want an error", tt.in)
			}
			if !errors.Is(err, ErrBadName) {
				t.Errorf("ValidateName(%q) = %v, want it to match ErrBadName", tt.in, err)
			}
			var ne *NameError
			if !errors.As(err, &ne) || ne.Reason == "" {
				t.Errorf("ValidateName(%q) = %#v, want a *NameError with a reason", tt.in, err)
			}
			// The reason is shown to the user: it must be printable and
			// one line whatever the name held.
			msg := Reason(err)
			if msg != printable.String(msg) {
				t.Errorf("Reason(%q) = %q: not one printable line", tt.in, msg)
			}
		})
	}
}

// TestValidateNameReason checks that a refusal says which part of the rule
// the name breaks.
func TestValidateNameReason(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"cafe\u0301", "invalid name: not in Unicode normal form C (NFC)"},
		{"a\u202eb", "invalid name: contains an invisible format character (U+202E)"},
		{"\ufeffa", "invalid name: contains an invisible format character (U+FEFF)"},
		{"a\u2029", "invalid name: contains a line or paragraph separator (U+2029)"},
		{"a\u0085", "invalid name: contains a control character (U+0085)"},
		{"a\x1b", "invalid name: contains a control character (U+001B)"},
	}
	for _, tt := range tests {
		if got := Reason(ValidateName(tt.in)); got != tt.want {
			t.Errorf("Reason(ValidateName(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestValidateExisting: names stored under the older rule (before NFC and
// format characters were refused) stay removable; the rest stays refused.
func TestValidateExisting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"plain.txt", true},
		{"cafe\u0301", true},
		{"evil\u202etxt", true},
		{"a\u200b", true},
		{"a\u2028", true},
		{"", false},
		{"..", false},
		{"a/b", false},
		{"a\u0085", false},
		{"a\x00", false},
		{"\xff", false},
		{strings.Repeat("x", 256), false},
	}
	for _, tt := range tests {
		if err := validateExisting(tt.in); (err == nil) != tt.ok {
			t.Errorf("validateExisting(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    string
		userErr bool
	}{
		{"sentinel", ErrNotFound, "no such file", true},
		{"wrapped sentinel", fmt.Errorf("catalog delete %q: %w", "x", ErrPermission), ErrPermission.Error(), true},
		{"name error", ValidateName(""), "invalid name: empty", true},
		{"internal", errors.New("open /srv/data/blobs/ab/abcd: input/output error"), "internal error", false},
		{"no space", fmt.Errorf("%w (%v)", ErrNoSpace, errors.New("ENOSPC")), ErrNoSpace.Error(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Reason(tt.err); got != tt.want {
				t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got := IsUserError(tt.err); got != tt.userErr {
				t.Errorf("IsUserError(%v) = %v, want %v", tt.err, got, tt.userErr)
			}
		})
	}
}
