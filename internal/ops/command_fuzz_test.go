package ops

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseCommand feeds ParseCommand both raw argument vectors (NUL
// separated) and command lines split the way exec splits them. It must
// never panic; a failure is a *UsageError; a success is a Command that its
// own spec allows and that parses back to itself.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"ls", "ls -l --json", "put 'my file.txt' --hidden --password pw --sha256 abc",
		"put f --password=a=b", "put -- -f", "put -", "get f --password ''", "info f --json",
		"sum f", "rm f", "hide f", "unhide f", "protect f --password n --old-password o",
		"unprotect f --password c", "passwd", "whoami", "help", "", "frob", "put", "put a b",
		"put f --password", "ls --json=1", `put "unterminated`, "put f\x00--hidden",
		"ls\x00-l", "put\x00a b\x00--password\x00x", "\x00", "put\x00\x00", "put --hidden -- --hidden",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check(t, strings.Split(s, "\x00"))
		if argv, err := SplitWords(s); err == nil {
			check(t, argv)
		}
	})
}

func check(t *testing.T, argv []string) {
	c, err := ParseCommand(argv)
	if err != nil {
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Fatalf("ParseCommand(%q): %T %v, want a *UsageError", argv, err, err)
		}
		if c != (Command{}) {
			t.Fatalf("ParseCommand(%q) failed but returned %+v", argv, c)
		}
		return
	}
	spec, ok := Lookup(c.Name)
	if !ok || c.Name != argv[0] {
		t.Fatalf("ParseCommand(%q) = command %q", argv, c.Name)
	}
	allowed := func(flag string, set bool) {
		if _, ok := spec.flags[flag]; set && !ok {
			t.Fatalf("ParseCommand(%q) = %+v: %s set but %s does not take it", argv, c, flag, c.Name)
		}
	}
	allowed("-l", c.Long)
	allowed("--json", c.JSON)
	allowed("--hidden", c.Hidden)
	allowed("--password", c.HasPass)
	allowed("--old-password", c.OldPass != "")
	allowed("--sha256", c.SHA256 != "")
	if !c.HasPass && c.Password != "" {
		t.Fatalf("ParseCommand(%q) = %+v: a password without --password", argv, c)
	}
	if !spec.takesFile && c.File != "" {
		t.Fatalf("ParseCommand(%q) = %+v: a file for %s", argv, c, c.Name)
	}
	for _, r := range spec.required {
		if r == "--password" && !c.HasPass {
			t.Fatalf("ParseCommand(%q) = %+v: required %s missing", argv, c, r)
		}
	}
	// The Command written back as a canonical argv parses to itself.
	again, err := ParseCommand(canonical(c, spec))
	if err != nil {
		t.Fatalf("ParseCommand(%q) = %+v, whose canonical form %q fails: %v", argv, c, canonical(c, spec), err)
	}
	if !reflect.DeepEqual(again, c) {
		t.Fatalf("ParseCommand(%q) = %+v, but its canonical form %q parses to %+v", argv, c, canonical(c, spec), again)
	}
}

func canonical(c Command, spec Spec) []string {
	argv := []string{c.Name}
	if c.Long {
		argv = append(argv, "-l")
	}
	if c.JSON {
		argv = append(argv, "--json")
	}
	if c.Hidden {
		argv = append(argv, "--hidden")
	}
	if c.HasPass {
		argv = append(argv, "--password="+c.Password)
	}
	if c.OldPass != "" {
		argv = append(argv, "--old-password", c.OldPass)
	}
	if c.SHA256 != "" {
		argv = append(argv, "--sha256", c.SHA256)
	}
	if spec.takesFile {
		argv = append(argv, "--", c.File)
	}
	return argv
}
