package ops

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want Command
	}{
		{"ls", Command{Name: "ls"}},
		{"ls -l", Command{Name: "ls", Long: true}},
		{"ls --json -l", Command{Name: "ls", Long: true, JSON: true}},
		{"put f", Command{Name: "put", File: "f"}},
		{"put 'my file.txt'", Command{Name: "put", File: "my file.txt"}},
		{`put "my file.txt"`, Command{Name: "put", File: "my file.txt"}},
		{`put my\ file.txt`, Command{Name: "put", File: "my file.txt"}},
		{"put f --hidden", Command{Name: "put", File: "f", Hidden: true}},
		{"put --hidden f", Command{Name: "put", File: "f", Hidden: true}},
		{"put f --password pw", Command{Name: "put", File: "f", Password: "pw", HasPass: true}},
		{"put f --password=pw", Command{Name: "put", File: "f", Password: "pw", HasPass: true}},
		{"put f --password=a=b", Command{Name: "put", File: "f", Password: "a=b", HasPass: true}},
		{"put f --password=", Command{Name: "put", File: "f", Password: "", HasPass: true}},
		{"put f --password -x", Command{Name: "put", File: "f", Password: "-x", HasPass: true}},
		{"put f --password 'two words'", Command{Name: "put", File: "f", Password: "two words", HasPass: true}},
		{"put f --sha256 abababababababababababababababababababababababababababababababab", Command{Name: "put", File: "f", SHA256: "abababababababababababababababababababababababababababababababab"}},
		{"put f --hidden --password p --sha256 ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB", Command{Name: "put", File: "f", Hidden: true, Password: "p", HasPass: true, SHA256: "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"}},
		{"put -- -dash", Command{Name: "put", File: "-dash"}},
		{"put --hidden -- --hidden", Command{Name: "put", File: "--hidden", Hidden: true}},
		{"put -", Command{Name: "put", File: "-"}},
		{"get f", Command{Name: "get", File: "f"}},
		{"get f --password pw", Command{Name: "get", File: "f", Password: "pw", HasPass: true}},
		{"get 日本語.txt", Command{Name: "get", File: "日本語.txt"}},
		{"info f", Command{Name: "info", File: "f"}},
		{"info f --json", Command{Name: "info", File: "f", JSON: true}},
		{"sum f", Command{Name: "sum", File: "f"}},
		{"rm f", Command{Name: "rm", File: "f"}},
		{"hide f", Command{Name: "hide", File: "f"}},
		{"unhide f", Command{Name: "unhide", File: "f"}},
		{"protect f --password new", Command{Name: "protect", File: "f", Password: "new", HasPass: true}},
		{"protect f --password new --old-password old", Command{Name: "protect", File: "f", Password: "new", HasPass: true, OldPass: "old"}},
		{"protect --old-password=old f --password=new", Command{Name: "protect", File: "f", Password: "new", HasPass: true, OldPass: "old"}},
		{"unprotect f --password cur", Command{Name: "unprotect", File: "f", Password: "cur", HasPass: true}},
		{"unprotect f", Command{Name: "unprotect", File: "f"}}, // password may come from SSHELF_FILE_PASSWORD
		{"passwd", Command{Name: "passwd"}},
		{"whoami", Command{Name: "whoami"}},
		{"help", Command{Name: "help"}},
		{"put f --password a --password b", Command{Name: "put", File: "f", Password: "b", HasPass: true}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			argv, err := SplitWords(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			parseAs(t, argv, tt.want)
		})
	}
	// Empty arguments, as argv (see TestSplitKeepsEmptyArguments).
	argvTests := []struct {
		argv []string
		want Command
	}{
		{[]string{"put", "f", "--password", ""}, Command{Name: "put", File: "f", Password: "", HasPass: true}},
		{[]string{"put", ""}, Command{Name: "put", File: ""}}, // the name is the service's to refuse
		{[]string{"get", "", "--password", "--json"}, Command{Name: "get", File: "", Password: "--json", HasPass: true}},
	}
	for _, tt := range argvTests {
		t.Run(strings.Join(tt.argv, "|"), func(t *testing.T) {
			t.Parallel()
			parseAs(t, tt.argv, tt.want)
		})
	}
}

func parseAs(t *testing.T, argv []string, want Command) {
	t.Helper()
	got, err := ParseCommand(argv)
	if err != nil {
		t.Fatalf("ParseCommand(%q) = %v", argv, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCommand(%q) =\n %+v, want\n %+v", argv, got, want)
	}
}

// A command line is split by shell quoting rules, where ” is an empty
// argument. A splitter that drops it shifts the words after it: `put f
// --password ” --hidden` would store a public file protected by the
// password "--hidden" instead of being refused for an empty password.
func TestSplitKeepsEmptyArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want []string
	}{
		{"put f --password '' --hidden", []string{"put", "f", "--password", "", "--hidden"}},
		{`get "" --password x`, []string{"get", "", "--password", "x"}},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q splits to %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestParseCommandUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv    []string
		command string // UsageError.Command
		msg     string // in the message
	}{
		{nil, "", "no command"},
		{[]string{}, "", "no command"},
		{[]string{"frobnicate"}, "", "unknown command"},
		{[]string{"LS"}, "", "unknown command"},
		{[]string{""}, "", "unknown command"},
		{[]string{"-l"}, "", "unknown command"},
		{[]string{"ls", "x"}, "ls", "unexpected argument"},
		{[]string{"ls", "-x"}, "ls", "unknown option -x"},
		{[]string{"ls", "--json=yes"}, "ls", "takes no value"},
		{[]string{"ls", "-l=1"}, "ls", "takes no value"},
		{[]string{"ls", "--", "x"}, "ls", "unexpected argument"},
		{[]string{"put"}, "put", "missing file name"},
		{[]string{"put", "--hidden"}, "put", "missing file name"},
		{[]string{"put", "a", "b"}, "put", "one file name only"},
		{[]string{"put", "a", "--", "b"}, "put", "one file name only"},
		{[]string{"put", "f", "--password"}, "put", "--password needs a value"},
		{[]string{"put", "f", "--sha256"}, "put", "--sha256 needs a value"},
		{[]string{"put", "f", "--sha256", "abc"}, "put", "--sha256 must be 64 hex digits"},
		{[]string{"put", "f", "--hidden=1"}, "put", "takes no value"},
		{[]string{"put", "f", "--json"}, "put", "unknown option --json"},
		{[]string{"put", "f", "-l"}, "put", "unknown option -l"},
		{[]string{"get", "f", "--hidden"}, "get", "unknown option --hidden"},
		{[]string{"get", "f", "--old-password", "x"}, "get", "unknown option --old-password"},
		{[]string{"sum", "f", "--json"}, "sum", "unknown option"},
		{[]string{"rm", "f", "--password", "x"}, "rm", "unknown option"},
		{[]string{"rm"}, "rm", "missing file name"},
		{[]string{"protect", "f"}, "protect", "missing --password"},
		{[]string{"protect", "f", "--old-password", "x"}, "protect", "missing --password"},
		{[]string{"protect", "--password", "p"}, "protect", "missing file name"},
		{[]string{"passwd", "alice"}, "passwd", "unexpected argument"},
		{[]string{"whoami", "--json"}, "whoami", "unknown option"},
		{[]string{"help", "ls"}, "help", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			t.Parallel()
			c, err := ParseCommand(tt.argv)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("ParseCommand(%q) = %+v, %v; want a *UsageError", tt.argv, c, err)
			}
			if c != (Command{}) {
				t.Errorf("a failed parse returned %+v", c)
			}
			if ue.Command != tt.command {
				t.Errorf("UsageError.Command = %q, want %q", ue.Command, tt.command)
			}
			if !strings.Contains(ue.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", ue.Error(), tt.msg)
			}
			if tt.command != "" && !strings.Contains(ue.Error(), "usage: "+tt.command) {
				t.Errorf("error %q has no usage line", ue.Error())
			}
			if strings.Contains(ue.Error(), "\n") {
				t.Errorf("error %q is not one line", ue.Error())
			}
		})
	}
}

// No password ever appears in an error.
func TestParseCommandErrorsHideValues(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	for _, argv := range [][]string{
		{"put", "f", "--password", secret, "extra"},
		{"put", "--password=" + secret},
		{"get", "--password", secret},
		{"protect", "f", "--old-password", secret},
		{"rm", "f", "--password=" + secret},
		{"ls", "--password=" + secret},
	} {
		_, err := ParseCommand(argv)
		if err == nil {
			t.Fatalf("ParseCommand(%q) succeeded", argv)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseCommand(%q) error shows the password: %v", argv, err)
		}
	}
}

func TestHelpTextListsEveryCommand(t *testing.T) {
	t.Parallel()
	h := HelpText()
	for _, spec := range Specs() {
		if !strings.Contains(h, spec.Usage) {
			t.Errorf("help lacks %s: %q", spec.Name, spec.Usage)
		}
	}
}
