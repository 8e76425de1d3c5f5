// Package ops is sshelf's transport-neutral command layer: one table of
// commands (table.go) with their options, help lines and handlers; parsing,
// running, exit statuses, error lines and the audit event. exec and the
// subsystem run commands through a Runner; SFTP, scp and the terminal UI,
// which have no command lines, report through the same Observer.
package ops

import (
	"fmt"
	"strings"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// Command is one parsed file command, as the exec commands and the sshelf
// subsystem both take it.
type Command struct {
	Name     string // ls, put, get, ...
	File     string // the file name argument, if the command takes one
	Long     bool   // ls -l
	JSON     bool   // --json
	Hidden   bool   // put --hidden
	Password string // --password
	HasPass  bool   // --password was given (it wins over SSHELF_FILE_PASSWORD)
	OldPass  string // protect --old-password
	SHA256   string // put --sha256
}

// UsageError is a command line that does not parse: exit status 2.
type UsageError struct {
	Command string
	Msg     string
}

func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Msg
	}
	return e.Command + ": " + e.Msg
}

// Kind and Reason give a UsageError its place in files' vocabulary.
func (e *UsageError) Kind() files.Kind { return files.KindUsage }
func (e *UsageError) Reason() string   { return e.Msg }

// ParseCommand parses argv (already split by shell quoting rules).
func ParseCommand(argv []string) (Command, error) {
	if len(argv) == 0 {
		return Command{}, &UsageError{Msg: "no command"}
	}
	name := argv[0]
	spec, ok := lookup(name)
	if !ok {
		return Command{}, &UsageError{Msg: "unknown command; try help"}
	}
	c := Command{Name: name}
	usage := func(format string, args ...any) error {
		return &UsageError{Command: name, Msg: fmt.Sprintf(format, args...) + "; usage: " + spec.Usage}
	}
	seen := map[string]bool{}
	var positional []string
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flag, value, hasValue := strings.Cut(a, "=")
		takesValue, known := spec.flags[flag]
		if !known {
			return Command{}, usage("unknown option %s", printable.String(flag))
		}
		if takesValue && !hasValue {
			if i+1 >= len(args) {
				return Command{}, usage("%s needs a value", flag)
			}
			i++
			value = args[i]
		} else if !takesValue && hasValue {
			return Command{}, usage("%s takes no value", flag)
		}
		seen[flag] = true
		switch flag {
		case "-l":
			c.Long = true
		case "--json":
			c.JSON = true
		case "--hidden":
			c.Hidden = true
		case "--password":
			c.Password, c.HasPass = value, true
		case "--old-password":
			c.OldPass = value
		case "--sha256":
			// A malformed value is a usage error (exit 2), before any
			// content is read.
			if err := files.CheckSHA256(value); err != nil {
				return Command{}, usage("%v", err)
			}
			c.SHA256 = value
		}
	}
	switch {
	case spec.takesFile && len(positional) == 0:
		return Command{}, usage("missing file name")
	case spec.takesFile && len(positional) > 1:
		return Command{}, usage("one file name only (quote names with spaces)")
	case !spec.takesFile && len(positional) > 0:
		return Command{}, usage("unexpected argument %q", positional[0])
	}
	if spec.takesFile {
		c.File = positional[0]
	}
	for _, f := range spec.required {
		if !seen[f] {
			return Command{}, usage("missing %s", f)
		}
	}
	return c, nil
}

// ParseLine splits a command line by shell quoting rules and parses it,
// as exec and the subsystem take it. On a usage error the command's name
// is still set, for the error line and the log.
func ParseLine(line string) (Command, error) {
	argv, err := SplitWords(line)
	if err != nil {
		return Command{}, &UsageError{Msg: "cannot split the command line: " + err.Error()}
	}
	c, err := ParseCommand(argv)
	if err != nil && len(argv) > 0 {
		c.Name = argv[0]
	}
	return c, err
}

// HelpText is what `help` prints, and a session with no command and no
// terminal: the table's usage lines in its order.
func HelpText() string {
	var b strings.Builder
	b.WriteString("sshelf: share files over SSH.\n\nCommands (ssh -p PORT USER@HOST COMMAND ...):\n")
	for _, spec := range table {
		fmt.Fprintf(&b, "  %s\n", spec.Usage)
	}
	b.WriteString(`
The download password can also come from SSHELF_FILE_PASSWORD
(ssh -o SetEnv=SSHELF_FILE_PASSWORD=...); --password wins over it.
Also: ssh -s ... sshelf (file-command subsystem), sftp, scp,
and ssh -t with no command for the terminal UI.
Exit status: 0 done, 1 refused or failed, 2 usage error.
`)
	return b.String()
}
