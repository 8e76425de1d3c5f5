package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// Exit codes and the one-line error format, and bad input.

func TestErrorsOnMissingFile(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	cases := [][]string{
		{"get", "secret.txt"},
		{"get", "secret.txt", "--password", "x"},
		{"info", "secret.txt"},
		{"info", "secret.txt", "--json"},
		{"sum", "secret.txt"},
		{"rm", "secret.txt"},
		{"hide", "secret.txt"},
		{"unhide", "secret.txt"},
		{"protect", "secret.txt", "--password", "x"},
		{"unprotect", "secret.txt", "--password", "x"},
	}
	for _, args := range cases {
		r := do(t, srv, "alice", alicePW, nil, args...)
		expectErr(t, r, 1, "sshelf: "+args[0]+": secret.txt: ", strings.Join(args, " "))
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", alicePW, "f.txt", []byte("f"))
	put(t, srv, "alice", alicePW, "p.txt", []byte("p"), "--password", "pp")
	cases := [][]string{
		{"frobnicate"},
		{"frobnicate", "f.txt"},
		{"LS"},
		{"put"},
		{"get"},
		{"info"},
		{"sum"},
		{"rm"},
		{"hide"},
		{"unhide"},
		{"protect"},
		{"unprotect"},
		{"protect", "f.txt"},
		{"protect", "p.txt"},
		{"protect", "p.txt", "--old-password", "pp"},
		{"protect", "f.txt", "--password"},
		{"get", "f.txt", "--password"},
		{"put", "g.txt", "--sha256"},
		{"put", "g.txt", "--sha256", "abc"},
		{"ls", "--bogus"},
		{"get", "f.txt", "--bogus"},
		{"put", "g.txt", "--bogus"},
		{"info", "f.txt", "--bogus"},
		{"get", "f.txt", "extra"},
		{"whoami", "extra"},
		{"rm", "f.txt", "extra"},
		{"'unterminated"},
		{"get", "'f.txt"},
	}
	for _, args := range cases {
		r := do(t, srv, "alice", alicePW, []byte("stdin data"), args...)
		what := strings.Join(args, " ")
		if r.code != 2 {
			t.Errorf("%s: want exit 2 (usage), got %v", what, r)
			continue
		}
		checkOneErrorLine(t, r, "", what)
		if len(r.stdout) != 0 {
			t.Errorf("%s: stdout should be empty on a usage error, got %q", what, r.stdout)
		}
	}
	// unprotect without --password: the password may come from
	// SSHELF_FILE_PASSWORD, so this is a refusal (1) or a usage error (2),
	// and the file stays protected.
	r := do(t, srv, "alice", alicePW, nil, "unprotect", "p.txt")
	if r.code != 1 && r.code != 2 {
		t.Errorf("unprotect p.txt without a password: want exit 1 or 2, got %v", r)
	} else {
		checkOneErrorLine(t, r, "sshelf: unprotect: ", "unprotect without a password")
	}
	if fi := info(t, srv, "alice", alicePW, "p.txt"); !fi.Protected {
		t.Errorf("unprotect without a password unprotected the file")
	}
	// The unknown command names itself in the error.
	r = do(t, srv, "alice", alicePW, nil, "frobnicate")
	if !strings.HasPrefix(string(r.stderr), "sshelf: frobnicate: ") && !strings.HasPrefix(string(r.stderr), "sshelf: ") {
		t.Errorf("unknown command error: %q", r.stderr)
	}
	if !bytes.Contains(r.stderr, []byte("frobnicate")) {
		t.Errorf("unknown command error does not name the command: %q", r.stderr)
	}
	// Nothing was stored by the usage errors, and f.txt is intact.
	if names := lsNames(t, srv, "alice", alicePW); strings.Join(names, ",") != "f.txt,p.txt" {
		t.Errorf("after usage errors, ls: %q", names)
	}
	expectErr(t, do(t, srv, "alice", alicePW, nil, "info", "g.txt"), 1, "sshelf: info: g.txt: ", "info g.txt after usage errors")
}

func TestInvalidNames(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	login(t, srv, "alice", alicePW)
	before := contentFiles(t, srv.dataDir())
	cases := []struct {
		label, name string
		printable   bool
		alsoOthers  bool // also try get, info, sum, rm with it
	}{
		{"slash", "a/b", true, true},
		{"leading slash", "/etc/passwd", true, false},
		{"dotdot", "..", true, true},
		{"dot", ".", true, true},
		{"dotdot path", "../x", true, false},
		{"control 0x01", "a\x01b", false, true},
		{"tab", "a\tb", false, false},
		{"newline", "a\nb", false, false},
		{"escape", "a\x1b[31mb", false, false},
		{"DEL", "a\x7fb", false, false},
		{"invalid utf-8", "a\xffb", false, true},
		{"256 bytes", strings.Repeat("n", 256), true, true},
		{"256 bytes multibyte", strings.Repeat("é", 128), true, false},
	}
	for _, c := range cases {
		prefix := ""
		if c.printable {
			prefix = "sshelf: put: " + c.name + ": "
		}
		r := do(t, srv, "alice", alicePW, []byte("content"), "put", q(c.name))
		if r.code != 1 {
			t.Errorf("put %s: want exit 1, got %v", c.label, r)
		} else {
			checkOneErrorLine(t, r, prefix, "put "+c.label)
		}
		if !c.printable && bytes.ContainsAny(r.stderr, "\x01\x1b\x7f") {
			t.Errorf("put %s: error echoes raw control bytes: %q", c.label, r.stderr)
		}
		if !c.alsoOthers {
			continue
		}
		for _, cmd := range []string{"get", "info", "sum", "rm"} {
			r := do(t, srv, "alice", alicePW, nil, cmd, q(c.name))
			if r.code != 1 {
				t.Errorf("%s %s: want exit 1, got %v", cmd, c.label, r)
				continue
			}
			p := ""
			if c.printable {
				p = "sshelf: " + cmd + ": " + c.name + ": "
			}
			checkOneErrorLine(t, r, p, cmd+" "+c.label)
		}
	}
	// Empty name: refused, as bad name or usage error.
	r := do(t, srv, "alice", alicePW, []byte("x"), "put", "''")
	if r.code != 1 && r.code != 2 {
		t.Errorf("put '': want exit 1 or 2, got %v", r)
	}
	if names := lsNames(t, srv, "alice", alicePW); len(names) != 0 {
		t.Errorf("invalid names were stored: %q", names)
	}
	waitContentFiles(t, srv.dataDir(), before, 5e9)
}

func TestNameLength(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	name255 := strings.Repeat("x", 251) + ".txt"
	put(t, srv, "alice", alicePW, name255, []byte("long name"))
	if got := get(t, srv, "bob", bobPW, name255); string(got) != "long name" {
		t.Fatalf("get 255-byte name: %q", got)
	}
	if !contains(lsNames(t, srv, "bob", bobPW), name255) {
		t.Fatal("ls lacks the 255-byte name")
	}
	// 255 bytes of multibyte UTF-8 (85 x 3 bytes).
	name255u := strings.Repeat("✓", 85)
	put(t, srv, "alice", alicePW, name255u, []byte("utf8"))
	if fi := info(t, srv, "bob", bobPW, name255u); fi.Name != name255u {
		t.Fatalf("info 255-byte UTF-8 name: %q", fi.Name)
	}
	name256 := strings.Repeat("x", 252) + ".txt"
	expectErr(t, do(t, srv, "alice", alicePW, []byte("too long"), "put", name256), 1, "sshelf: put: "+name256+": ", "put 256-byte name")
	// One byte of name: fine.
	put(t, srv, "alice", alicePW, "z", []byte("one"))
}

func TestWrongAndMissingFilePasswords(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	put(t, srv, "alice", alicePW, "p.txt", []byte("p"), "--password", "good")
	cases := []struct {
		label  string
		args   []string
		setEnv []string
	}{
		{"missing", []string{"get", "p.txt"}, nil},
		{"wrong flag", []string{"get", "p.txt", "--password", "bad"}, nil},
		{"wrong env", []string{"get", "p.txt"}, []string{"SSHELF_FILE_PASSWORD=bad"}},
		{"case differs", []string{"get", "p.txt", "--password", "GOOD"}, nil},
		{"prefix", []string{"get", "p.txt", "--password", "goo"}, nil},
	}
	for _, c := range cases {
		r := doEnv(t, srv, "bob", bobPW, c.setEnv, nil, c.args...)
		expectErr(t, r, 1, "sshelf: get: p.txt: ", c.label)
	}
	// An empty password is refused (as a wrong password or a usage error).
	r := do(t, srv, "bob", bobPW, nil, "get", "p.txt", "--password", "''")
	if r.code != 1 && r.code != 2 {
		t.Errorf("get with --password '': want exit 1 or 2, got %v", r)
	} else {
		checkOneErrorLine(t, r, "sshelf: get: ", "get with --password ''")
	}
	// A password given for an unprotected file does no harm.
	put(t, srv, "alice", alicePW, "open.txt", []byte("o"))
	if got := get(t, srv, "bob", bobPW, "open.txt", "--password", "whatever"); string(got) != "o" {
		t.Errorf("get unprotected with a password: %q", got)
	}
}
