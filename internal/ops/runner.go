package ops

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
)

// Runner runs commands against the rules and reports each to Observe.
type Runner struct {
	Files    *files.Service
	Accounts *auth.Accounts
	Observe  Observer // nil: nobody is told
}

// Call is what one command runs with: who, the session's settings, and
// how its bytes move.
type Call struct {
	User, Addr string
	Transport  string // for the log: exec, sshelf, ...
	Settings   Settings
	In         io.Reader // put content; passwd lines
	Out        io.Writer // what the command prints
	// Size is the content length the client declared, or -1.
	Size int64
	// Confirm, if set, is called after the content ended: it fails if the
	// client did not really finish (its connection dropped).
	Confirm func() error
}

// Result is what a command did, for the log and for framing.
type Result struct {
	Bytes  int64
	SHA256 string
}

// Run runs a parsed command through its table entry.
func (r *Runner) Run(ctx context.Context, c Command, cl *Call) (Result, error) {
	spec, ok := Lookup(c.Name)
	if !ok {
		return Result{}, &UsageError{Msg: fmt.Sprintf("unknown command %q", c.Name)}
	}
	return spec.run(ctx, r, c, cl)
}

// Exec parses and runs one command line, writes a failure's error line to
// stderr, reports the event and returns the exit status: an exec command
// whole.
func (r *Runner) Exec(ctx context.Context, line string, cl *Call, stderr io.Writer) int {
	start := time.Now()
	c, err := ParseLine(line)
	var res Result
	if err == nil {
		res, err = r.Run(ctx, c, cl)
	}
	if err != nil {
		fmt.Fprintln(stderr, ErrorLine(c, err))
	}
	r.Record(ctx, cl, c, res, err, start)
	return ExitStatus(files.KindOf(err))
}

// Record reports a command's outcome to the observer.
func (r *Runner) Record(ctx context.Context, cl *Call, c Command, res Result, err error, start time.Time) {
	r.Report(ctx, Event{
		User: cl.User, Addr: cl.Addr, Transport: cl.Transport, Command: c.Name, Name: c.File,
		Bytes: res.Bytes, SHA256: res.SHA256, Err: err, Elapsed: time.Since(start),
	})
}

// Report tells the observer of e.
func (r *Runner) Report(ctx context.Context, e Event) {
	if r.Observe != nil {
		r.Observe(ctx, e)
	}
}
