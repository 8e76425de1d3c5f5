package files

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
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
			if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\n\r\x1b") {
				t.Errorf("Reason(%q) = %q: not one printable line", tt.in, msg)
			}
		})
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
