package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sshelf/sshelf/files"
)

// noRawControls fails if s holds a byte or rune a terminal or a log reader
// would act on: invalid UTF-8, C0, DEL, C1, format characters, separators.
func noRawControls(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if r == '\n' && strings.HasSuffix(s, "\n") && strings.Count(s, "\n") == 1 {
			continue // the line's own end
		}
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Errorf("%s: %q holds %U raw", what, s, r)
		}
	}
}

// Every name, command word and quoted text a client chose is escaped in
// the contract's error line ("sshelf: COMMAND: NAME: reason").
func TestErrorLineEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Command
		err  error
		want string
	}{
		{"plain", Command{Name: "get", File: "f"}, files.ErrNotFound, "sshelf: get: f: no such file"},
		{"non-ASCII stays", Command{Name: "get", File: "日本語.txt"}, files.ErrNotFound, "sshelf: get: 日本語.txt: no such file"},
		{"backslash stays", Command{Name: "get", File: `a\b`}, files.ErrNotFound, `sshelf: get: a\b: no such file`},
		{"C1 NEL", Command{Name: "get", File: "bad\u0085name"}, files.ErrNotFound, `sshelf: get: bad\u0085name: no such file`},
		{"C1 CSI", Command{Name: "get", File: "\u009b31mred"}, files.ErrNotFound, `sshelf: get: \u009b31mred: no such file`},
		{"raw C1 byte (not UTF-8)", Command{Name: "get", File: "a\x9bb"}, files.ErrNotFound, `sshelf: get: a\x9bb: no such file`},
		{"escape", Command{Name: "get", File: "\x1b[2J"}, files.ErrNotFound, `sshelf: get: \x1b[2J: no such file`},
		{"newline", Command{Name: "rm", File: "a\nsshelf: fake"}, files.ErrNotFound, `sshelf: rm: a\nsshelf: fake: no such file`},
		{"bidi override", Command{Name: "get", File: "evil\u202etxt.exe"}, files.ErrNotFound, `sshelf: get: evil\u202etxt.exe: no such file`},
		{"zero-width", Command{Name: "get", File: "a\u200bb"}, files.ErrNotFound, `sshelf: get: a\u200bb: no such file`},
		{"BOM", Command{Name: "get", File: "\ufeffa"}, files.ErrNotFound, `sshelf: get: \ufeffa: no such file`},
		{"line separator", Command{Name: "get", File: "a\u2028b"}, files.ErrNotFound, `sshelf: get: a\u2028b: no such file`},
		{"bad name's reason", Command{Name: "put", File: "a\u0085"}, files.ValidateName("a\u0085"),
			`sshelf: put: a\u0085: invalid name: contains a control character (U+0085)`},
		{"unknown command", Command{Name: "x\u0085y"}, &UsageError{Msg: "unknown command; try help"},
			`sshelf: x\u0085y: unknown command; try help`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ErrorLine(tt.c, tt.err)
			if got != tt.want {
				t.Errorf("ErrorLine = %q, want %q", got, tt.want)
			}
			noRawControls(t, "ErrorLine", got)
		})
	}
}

func TestUnknownOptionEscaped(t *testing.T) {
	t.Parallel()
	_, err := ParseCommand([]string{"ls", "--x\u0085\u202e"})
	if err == nil {
		t.Fatal("parsed")
	}
	line := ErrorLine(Command{Name: "ls"}, err)
	if !strings.Contains(line, `unknown option --x\u0085\u202e`) {
		t.Errorf("error line %q does not show the option escaped", line)
	}
	noRawControls(t, "ErrorLine", line)
}

// The audit log escapes what a client chose, with either handler: the JSON
// handler alone would write C1 controls and format characters raw.
func TestAuditEscapes(t *testing.T) {
	t.Parallel()
	const name = "bad\u0085name\u202e\u2028\x1b"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			r := &Runner{Observe: LogObserver(slog.New(h))}
			cl := &Call{User: "alice", Addr: "127.0.0.1:1", Transport: "exec"}
			r.Record(context.Background(), cl, Command{Name: "get", File: name}, Result{}, files.ErrNotFound, time.Now())
			r.Record(context.Background(), cl, Command{Name: "zz\u0085"}, Result{}, &UsageError{Msg: "unknown option --\u009b"}, time.Now())
			out := buf.String()
			for i, line := range strings.SplitAfter(strings.TrimSuffix(out, "\n"), "\n") {
				noRawControls(t, "log line", line)
				if format == "json" {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatalf("line %d: %v: %s", i, err, line)
					}
					if i == 0 && m["name"] != `bad\u0085name\u202e\u2028\x1b` {
						t.Errorf("name logged as %q", m["name"])
					}
				}
			}
			if format == "text" && !strings.Contains(out, `name=bad\u0085name`) {
				t.Errorf("log %q lacks the escaped name", out)
			}
		})
	}
}
