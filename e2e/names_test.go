package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/files/sqlite"
	"github.com/sshelf/sshelf/internal/sqlitedb"
)

// Names are NFC without format characters or separators (refused, not
// normalised), and whatever a client puts in a name is echoed escaped:
// error lines, the subsystem's end lines, scp messages and the log.

// rawUnsafe returns the first byte sequence in b that a terminal or a log
// reader would act on (invalid UTF-8, C0 but the line ends, DEL, C1, a
// format character, a line or paragraph separator), or "".
func rawUnsafe(b []byte) string {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("byte %#x", b[0])
		case r == '\n':
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp):
			return fmt.Sprintf("%U", r)
		}
		b = b[size:]
	}
	return ""
}

func noRawUnsafe(t *testing.T, what string, b []byte) {
	t.Helper()
	if u := rawUnsafe(b); u != "" {
		t.Errorf("%s holds a raw %s: %q", what, u, trunc(b))
	}
}

func TestNamesRefusedNotNormalised(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	cases := []struct {
		label, name, shown, reason string
	}{
		{"NFD café", "cafe\u0301", "cafe\u0301", "not in Unicode normal form C (NFC)"},
		{"bidi override U+202E", "evil\u202etxt.exe", `evil\u202etxt.exe`, "format character (U+202E)"},
		{"zero-width space U+200B", "a\u200bb", `a\u200bb`, "format character (U+200B)"},
		{"BOM U+FEFF", "\ufeffname", `\ufeffname`, "format character (U+FEFF)"},
		{"tag character U+E0041", "tag\U000e0041", `tag\U000e0041`, "format character (U+E0041)"},
		{"soft hyphen U+00AD", "soft\u00adhyphen", `soft\u00adhyphen`, "format character (U+00AD)"},
		{"line separator U+2028", "a\u2028b", `a\u2028b`, "line or paragraph separator (U+2028)"},
		{"C1 NEL U+0085", "bad\u0085name", `bad\u0085name`, "control character (U+0085)"},
		{"C1 CSI U+009B", "\u009b31mred", `\u009b31mred`, "control character (U+009B)"},
	}
	for _, c := range cases {
		r := do(t, srv, "alice", alicePW, []byte("content"), "put", q(c.name))
		want := "sshelf: put: " + c.shown + ": invalid name: "
		expectErr(t, r, 1, want, "put "+c.label)
		if !strings.Contains(string(r.stderr), c.reason) {
			t.Errorf("put %s: error %q does not say %q", c.label, r.stderr, c.reason)
		}
		noRawUnsafe(t, "put "+c.label+" stderr", r.stderr)
		for _, cmd := range []string{"get", "info", "sum"} {
			r := do(t, srv, "alice", alicePW, nil, cmd, q(c.name))
			expectErr(t, r, 1, "sshelf: "+cmd+": "+c.shown+": invalid name: ", cmd+" "+c.label)
			noRawUnsafe(t, cmd+" "+c.label+" stderr", r.stderr)
		}
	}
	// Nothing was stored, under either spelling: the NFC "café" is free.
	if names := lsNames(t, srv, "alice", alicePW); len(names) != 0 {
		t.Errorf("refused names were stored: %q", names)
	}
	put(t, srv, "alice", alicePW, "caf\u00e9", []byte("nfc"))
	if got := info(t, srv, "alice", alicePW, "caf\u00e9"); got.Name != "caf\u00e9" {
		t.Errorf("NFC café stored as %q", got.Name)
	}
}

func TestNonASCIINamesWork(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, name := range []string{"日本語.txt", "na\u00efve.txt", "résumé 2024.pdf", "🙂.png", strings.Repeat("日", 85)} {
		content := []byte("content of " + name)
		put(t, srv, "alice", alicePW, name, content)
		if got := get(t, srv, "bob", bobPW, name); !bytes.Equal(got, content) {
			t.Errorf("get %q: %q", name, got)
		}
		// Printable non-ASCII is echoed as it is, not escaped.
		r := do(t, srv, "bob", bobPW, nil, "rm", q(name))
		expectErr(t, r, 1, "sshelf: rm: "+name+": ", "rm "+name+" as bob")
	}
	names := lsNames(t, srv, "alice", alicePW)
	if !contains(names, "日本語.txt") || !contains(names, "na\u00efve.txt") {
		t.Errorf("ls: %q", names)
	}
}

// The case: C1 in an exec command's name and command word.
func TestC1EscapedInErrorLines(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)

	r := do(t, srv, "alice", alicePW, nil, "get", q("bad\xc2\x85name"))
	expectLine(t, r, 1, `sshelf: get: bad\u0085name: invalid name: contains a control character (U+0085)`, "get C1")
	if bytes.Contains(r.stderr, []byte("\xc2\x85")) {
		t.Errorf("get C1: raw C1 on stderr: %q", r.stderr)
	}
	noRawUnsafe(t, "get C1 stderr", r.stderr)

	// A raw C1 byte (not UTF-8) and an ESC sequence, in the command word.
	for _, word := range []string{"zz\x9b31m", "zz\xc2\x9b31m", "zz\x1b[2J"} {
		r := do(t, srv, "alice", alicePW, nil, q(word))
		expectErr(t, r, 2, "sshelf: zz\\", "unknown command "+strconv.Quote(word))
		noRawUnsafe(t, "unknown command stderr", r.stderr)
	}
	// In an option.
	r = do(t, srv, "alice", alicePW, nil, "ls", q("--x\xc2\x85\xe2\x80\xae"))
	expectErr(t, r, 2, "sshelf: ls: unknown option --x\\u0085\\u202e", "unknown option")
	noRawUnsafe(t, "unknown option stderr", r.stderr)

	// The subsystem's end lines.
	frames := subsystem(t, srv, "alice", alicePW, nil,
		"0 get 'bad\xc2\x85name'\n0 rm 'evil\xe2\x80\xaetxt'\n0 info 'x\x9b'\n")
	if len(frames) != 3 {
		t.Fatalf("subsystem: %d responses, want 3: %+v", len(frames), frames)
	}
	for i, want := range []string{
		`sshelf: get: bad\u0085name: invalid name: contains a control character (U+0085)`,
		`sshelf: rm: evil\u202etxt: no such file`, // rm takes older names: TestLegacyInvalidNameRemovable
		`sshelf: info: x\x9b: invalid name: not UTF-8`,
	} {
		if f := frames[i]; f.status != 1 || f.message != want {
			t.Errorf("subsystem response %d: %+v, want status 1 %q", i, f, want)
		}
	}

	// Legacy scp's messages: "scp -f NAME" answers a refusal with \x01 and
	// a line.
	r = srv.ssh(t, sshOpts{user: "alice", pw: alicePW, stdin: bytes.NewReader([]byte{0})}, "scp", "-f", q("bad\xc2\x85name"))
	if !bytes.HasPrefix(r.stdout, []byte("\x01sshelf: get: bad\\u0085name: ")) {
		t.Errorf("scp -f C1: stdout %q", r.stdout)
	}
	noRawUnsafe(t, "scp -f C1 stdout", bytes.TrimPrefix(r.stdout, []byte{1}))

	// The server's log (JSON here) has the names escaped, never raw.
	log := []byte(srv.logText())
	noRawUnsafe(t, "server log", log)
	found := false
	for _, m := range srv.jsonLines() {
		if m["msg"] == "op" && m["name"] == `bad\u0085name` {
			found = true
		}
	}
	if !found {
		t.Errorf("no op line logs the name escaped:\n%s", tail(string(log), 20))
	}
}

// frame is one subsystem response: its data chunks joined, and its end.
type frame struct {
	data    []byte
	status  int
	kind    string // the "[kind]" token of a failure's end line
	message string
}

// subsystem sends requests (already framed) through `ssh -s ... sshelf`
// and parses the responses.
func subsystem(t *testing.T, srv *server, user, pw string, setEnv []string, requests string) []frame {
	t.Helper()
	r := srv.ssh(t, sshOpts{user: user, pw: pw, setEnv: setEnv, extra: []string{"-s"}, stdin: strings.NewReader(requests)}, "sshelf")
	if r.code != 0 {
		t.Fatalf("ssh -s sshelf: %v", r)
	}
	noRawUnsafe(t, "subsystem stderr", r.stderr)
	var out []frame
	br := bufio.NewReader(bytes.NewReader(r.stdout))
	var cur frame
	for i := 0; i < 10000; i++ {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return out
		}
		if err != nil {
			t.Fatalf("subsystem output ends inside a line: %q", line)
		}
		line = strings.TrimSuffix(line, "\n")
		noRawUnsafe(t, "subsystem line", []byte(line))
		switch {
		case strings.HasPrefix(line, "D "):
			n, err := strconv.Atoi(line[2:])
			if err != nil {
				t.Fatalf("bad chunk line %q", line)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				t.Fatalf("chunk of %d: %v", n, err)
			}
			cur.data = append(cur.data, b...)
		case strings.HasPrefix(line, "E "):
			st, msg, _ := strings.Cut(line[2:], " ")
			code, err := strconv.Atoi(st)
			if err != nil {
				t.Fatalf("bad end line %q", line)
			}
			if code != 0 {
				if tok, rest, ok := strings.Cut(msg, "] "); ok && strings.HasPrefix(tok, "[") {
					cur.kind, msg = tok[1:], rest
				}
			}
			cur.status, cur.message = code, msg
			out = append(out, cur)
			cur = frame{}
		default:
			t.Fatalf("unexpected subsystem line %q", line)
		}
	}
	t.Fatal("subsystem output too long")
	return nil
}

// Names stored by an older server (under the looser rule) can still be
// removed by their owner; every other command refuses them. The catalog
// is written directly while the server is stopped, as an upgrade finds it.
func TestLegacyInvalidNameRemovable(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	srv := in.start(t)
	put(t, srv, "alice", alicePW, "old-name", []byte("stored long ago"))
	srv.stop(t)
	legacy := "evil\u202etxt"
	renameInCatalog(t, in.dataDir, "old-name", legacy)
	srv = in.start(t)

	// Listed as stored (ls prints names as data), refused by get and info.
	if names := lsNames(t, srv, "alice", alicePW); !contains(names, legacy) {
		t.Fatalf("ls: %q", names)
	}
	r := do(t, srv, "alice", alicePW, nil, "get", q(legacy))
	expectErr(t, r, 1, `sshelf: get: evil\u202etxt: invalid name: `, "get legacy")
	r = do(t, srv, "bob", bobPW, nil, "rm", q(legacy))
	expectErr(t, r, 1, `sshelf: rm: evil\u202etxt: `, "rm legacy as bob")
	mustOK(t, do(t, srv, "alice", alicePW, nil, "rm", q(legacy)), "rm legacy as owner")
	if names := lsNames(t, srv, "alice", alicePW); len(names) != 0 {
		t.Errorf("after rm, ls: %q", names)
	}
}

// renameInCatalog renames a record in a stopped server's catalog, bypassing
// the name rule as an older server's catalog would.
func renameInCatalog(t *testing.T, dataDir, from, to string) {
	t.Helper()
	withCatalog(t, dataDir, func(ctx context.Context, cat *sqlite.Catalog) {
		if _, err := cat.Rename(ctx, from, to, func(files.Record, *files.Record) error { return nil }); err != nil {
			t.Fatalf("catalog rename %q to %q: %v", from, to, err)
		}
	})
}

// withCatalog runs fn on the catalog of dataDir, opened beside the server
// if it runs (the catalog is in WAL mode).
func withCatalog(t *testing.T, dataDir string, fn func(context.Context, *sqlite.Catalog)) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(dataDir, "sshelf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	fn(ctx, cat)
}
