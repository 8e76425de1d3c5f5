package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sshelf/sshelf/files"
)

// Spec is one command: its table entry is all there is to know about it.
// Adding a command is one entry here plus its handler.
type Spec struct {
	Name  string
	Usage string // its help line, as `help` prints it
	// Key is the terminal UI's key for the command, "" if it has none.
	Key string

	takesFile bool
	flags     map[string]bool // flag -> takes a value
	required  []string        // flags that must be present
	content   bool            // takes content (a subsystem request's bytes)
	run       handler
}

// TakesContent reports whether a request of the command carries content.
func (s Spec) TakesContent() bool { return s.content }

// handler runs a parsed command for a call.
type handler func(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error)

// table lists the commands in the order `help` shows them.
var table = []Spec{
	{Name: "ls", Usage: "ls [-l] [--json]", flags: map[string]bool{"-l": false, "--json": false}, run: runList},
	{Name: "put", Usage: "put NAME [--hidden] [--password PW] [--sha256 HEX]", takesFile: true, content: true,
		flags: map[string]bool{"--hidden": false, "--password": true, "--sha256": true}, run: runPut},
	{Name: "get", Usage: "get NAME [--password PW]", takesFile: true, flags: map[string]bool{"--password": true}, run: runGet},
	{Name: "info", Usage: "info NAME [--json] [--password PW]", Key: "i", takesFile: true,
		flags: map[string]bool{"--json": false, "--password": true}, run: runInfo},
	{Name: "sum", Usage: "sum NAME [--password PW]", takesFile: true, flags: map[string]bool{"--password": true}, run: runSum},
	{Name: "rm", Usage: "rm NAME", Key: "d", takesFile: true, run: runRemove},
	{Name: "hide", Usage: "hide NAME", Key: "h", takesFile: true, run: runHide},
	{Name: "unhide", Usage: "unhide NAME", Key: "u", takesFile: true, run: runHide},
	{Name: "protect", Usage: "protect NAME --password NEW [--old-password OLD]", Key: "p", takesFile: true,
		flags: map[string]bool{"--password": true, "--old-password": true}, required: []string{"--password"}, run: runProtect},
	{Name: "unprotect", Usage: "unprotect NAME --password CURRENT", Key: "x", takesFile: true,
		flags: map[string]bool{"--password": true}, run: runUnprotect},
	{Name: "passwd", Usage: "passwd   (old and new password, one line each on stdin)", content: true, run: runPasswd},
	{Name: "whoami", Usage: "whoami", run: runWhoami},
	{Name: "help", Usage: "help"}, // run: runHelp, set in init
}

// help prints the table, so its handler joins the table after it is made.
func init() { table[byName["help"]].run = runHelp }

// byName indexes the table.
var byName = func() map[string]int {
	m := make(map[string]int, len(table))
	for i, s := range table {
		m[s.Name] = i
	}
	return m
}()

// Specs returns the table, in help order.
func Specs() []Spec { return append([]Spec(nil), table...) }

// Lookup returns the command named name.
func Lookup(name string) (Spec, bool) {
	i, ok := byName[name]
	if !ok {
		return Spec{}, false
	}
	return table[i], true
}

func lookup(name string) (Spec, bool) { return Lookup(name) }

func runHelp(_ context.Context, _ *Runner, _ Command, cl *Call) (Result, error) {
	_, err := io.WriteString(cl.Out, HelpText())
	return Result{}, err
}

func runWhoami(_ context.Context, _ *Runner, _ Command, cl *Call) (Result, error) {
	_, err := fmt.Fprintln(cl.Out, cl.User)
	return Result{}, err
}

func runInfo(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	f, err := r.Files.InfoWithPassword(ctx, cl.User, c.File, cl.Settings.InfoPassword(c))
	if err != nil {
		return Result{}, err
	}
	if c.JSON {
		err = json.NewEncoder(cl.Out).Encode(jsonFile(f))
	} else {
		_, err = io.WriteString(cl.Out, infoText(f))
	}
	return Result{SHA256: f.SHA256}, err
}

func runSum(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	f, err := r.Files.Sum(ctx, cl.User, c.File, cl.Settings.DownloadPassword(&c))
	if err != nil {
		return Result{}, err
	}
	_, err = fmt.Fprintf(cl.Out, "%s  %s\n", f.SHA256, f.Name)
	return Result{SHA256: f.SHA256}, err
}

func runGet(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	d, err := r.Files.Open(ctx, cl.User, c.File, cl.Settings.DownloadPassword(&c))
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	n, err := CopyBuffered(cl.Out, d)
	return Result{Bytes: n, SHA256: d.SHA256}, err
}

func runRemove(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	return Result{}, r.Files.Remove(ctx, cl.User, c.File)
}

func runHide(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	return Result{}, r.Files.SetHidden(ctx, cl.User, c.File, c.Name == "hide")
}

func runProtect(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	err := r.Files.Protect(ctx, cl.User, c.File, c.Password, c.OldPass)
	if errors.Is(err, files.ErrPasswordRequired) && c.OldPass == "" {
		// The rule's words name no flag; the user needs to know which.
		err = files.Refuse(files.KindPasswordRequired, "file is protected: give its current password with --old-password")
	}
	return Result{}, err
}

func runUnprotect(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	return Result{}, r.Files.Unprotect(ctx, cl.User, c.File, cl.Settings.DownloadPassword(&c))
}
