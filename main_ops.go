package main

// The operator's commands: version, check, backup.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
	"github.com/sshelf/sshelf/internal/version"
)

func versionCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "sshelf: version: usage: sshelf version")
		return 2
	}
	fmt.Fprintln(stdout, version.Get().String())
	return 0
}

// opsFlags parses the flags of check and backup; it returns the
// positional arguments, or an exit code when parsing ended the command.
func opsFlags(f *flags, cmd string, args []string, stderr io.Writer) ([]string, int, bool) {
	pos, err := f.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "sshelf: %s: %v\n", cmd, err)
		return nil, 2, false
	}
	return pos, 0, true
}

func check(args []string, stdout, stderr io.Writer) int {
	f := newFlags("check", stderr, false)
	remove := f.fs.Bool("remove-orphans", false, "remove contents no file refers to, older than "+shortDuration(files.DefaultOrphanGrace))
	pos, code, ok := opsFlags(f, "check", args, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "sshelf: check: usage: sshelf check [--data DIR] [--remove-orphans]")
		return 2
	}
	ctx, a, done, ok := openForOps("check", f.opt, stderr)
	if !ok {
		return 1
	}
	defer done()
	grace := shortDuration(files.DefaultOrphanGrace)
	sum, err := a.Files.Check(ctx, files.CheckOptions{
		RemoveOrphans: *remove,
		OrphanGrace:   files.DefaultOrphanGrace,
		Report: func(p files.Problem) {
			switch p.Kind {
			case files.Orphan:
				what := "kept; --remove-orphans removes it"
				switch {
				case p.Removed:
					what = "removed"
				case p.Young && *remove:
					what = "kept: younger than " + grace + ", it may be an upload being committed"
				}
				fmt.Fprintf(stdout, "orphan: content %s (%s): %s\n", p.Blob, p.Detail, what)
			default:
				fmt.Fprintf(stdout, "%s: %s: %s\n", p.Kind, printable.String(p.Name), p.Detail)
			}
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "sshelf: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, sum)
	if !sum.OK() {
		return 1
	}
	return 0
}

func backup(args []string, stdout, stderr io.Writer) int {
	f := newFlags("backup", stderr, false)
	pos, code, ok := opsFlags(f, "backup", args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		fmt.Fprintln(stderr, "sshelf: backup: usage: sshelf backup DEST [--data DIR]")
		return 2
	}
	dest := pos[0]
	ctx, a, done, ok := openForOps("backup", f.opt, stderr)
	if !ok {
		return 1
	}
	defer done()
	res, err := a.Backup(ctx, dest)
	if err != nil {
		fmt.Fprintf(stderr, "sshelf: %v\n", err)
		return 1
	}
	for _, name := range res.Dropped {
		fmt.Fprintf(stderr, "sshelf: backup: %s: changed during the backup; not in it\n", printable.String(name))
	}
	fmt.Fprintf(stdout, "backed up %d files, %d bytes to %s (%d linked, %d copied)\n",
		res.Files, res.Bytes, dest, res.Linked, res.Copied)
	return 0
}

// openForOps opens the existing data directory for cmd, with a context
// that ends on SIGINT or SIGTERM; done closes both. A failure to open is
// reported on stderr.
func openForOps(cmd string, opt app.Options, stderr io.Writer) (ctx context.Context, a *app.App, done func(), ok bool) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a, err := app.OpenExisting(ctx, opt)
	if err != nil {
		stop()
		fmt.Fprintf(stderr, "sshelf: %s: %v\n", cmd, err)
		return nil, nil, nil, false
	}
	return ctx, a, func() { a.Close(); stop() }, true
}

// shortDuration prints 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
