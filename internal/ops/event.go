package ops

import (
	"context"
	"log/slog"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// Event is one operation done or refused, through whatever way in: what
// the audit log records.
type Event struct {
	User, Addr string
	Transport  string // exec, sshelf, sftp, scp, tui
	Command    string // the command or operation: get, put, rename, ...
	Name       string // the file name(s), if any
	Bytes      int64
	SHA256     string
	Err        error // nil: done
	Elapsed    time.Duration
}

// Observer is told of every operation. A new way in reports through it, so
// none can leave out the audit line.
type Observer func(context.Context, Event)

// LogObserver writes one audit line per operation to log: never a
// password. What a client chose (its command word, a file name, text
// quoted in a reason) is escaped before it reaches the handler: the JSON
// handler would write C1 controls and format characters raw, and an
// operator reads the log in a terminal.
func LogObserver(log *slog.Logger) Observer {
	return func(ctx context.Context, e Event) {
		outcome := "ok"
		if e.Err != nil {
			outcome = files.Reason(e.Err)
		}
		attrs := []any{
			"user", printable.String(e.User), "addr", e.Addr, "transport", e.Transport,
			"command", printable.String(e.Command),
			"bytes", e.Bytes, "result", printable.Line(outcome), "ms", e.Elapsed.Milliseconds(),
		}
		if e.Name != "" {
			attrs = append(attrs, "name", printable.String(e.Name))
		}
		if e.SHA256 != "" {
			attrs = append(attrs, "sha256", e.SHA256)
		}
		if files.KindOf(e.Err) == files.KindInternal {
			// The detail is for the operator; the user saw only "internal error".
			attrs = append(attrs, "err", printable.Line(e.Err.Error()))
		}
		log.InfoContext(ctx, "op", attrs...)
	}
}

// Observers is one Observer that tells each of obs in turn (the audit log
// and the metrics), so every way in reports to all of them at once.
func Observers(obs ...Observer) Observer {
	return func(ctx context.Context, e Event) {
		for _, o := range obs {
			o(ctx, e)
		}
	}
}
