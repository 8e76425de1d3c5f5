// Command sshelf is a file server reached with the SSH tools people already
// have. See README.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/internal/gcpace"
	"github.com/sshelf/sshelf/internal/proxied"
	"github.com/sshelf/sshelf/internal/throttle"
	"github.com/sshelf/sshelf/sshd/tui"
)

const usage = `usage:
  sshelf serve [--listen :2222] [--data ./sshelf-data] [--signup open|closed]
               [--max-file-size SIZE] [--quota SIZE] [--log-format text|json] ...
  sshelf user add NAME | passwd NAME | del NAME | list | unlock NAME|ADDRESS   [--data DIR]
  sshelf user key add NAME | key list NAME | key del NAME FINGERPRINT   [--data DIR]
  sshelf check [--data DIR] [--remove-orphans] | backup DEST [--data DIR] | version
Every flag also reads an environment variable: --max-file-size from SSHELF_MAX_FILE_SIZE.
Run "sshelf serve -h" for every flag.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "user":
		return user(args[1:], stdin, stdout, stderr)
	case "version", "--version":
		return versionCmd(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "backup":
		return backup(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sshelf: unknown command %q\n%s", args[0], usage)
	return 2
}

// flags holds the options every command shares and those of serve.
type flags struct {
	fs        *flag.FlagSet
	opt       app.Options
	signup    string
	logFormat string
	help      io.Writer // where -h prints the flags
}

func newFlags(name string, stderr io.Writer, serve bool) *flags {
	f := &flags{fs: flag.NewFlagSet(name, flag.ContinueOnError), help: stderr}
	// A bad flag is one line (parse returns it, the caller prints it); the
	// whole list only for -h.
	f.fs.SetOutput(io.Discard)
	f.fs.Usage = func() {}
	o := &f.opt
	f.fs.StringVar(&o.Data, "data", "./sshelf-data", "data directory: host keys, catalog, contents (with shared stores: this server's spool)")
	f.fs.StringVar(&o.Catalog, "catalog", "", "shared catalog: postgres://USER@HOST:PORT/DB (empty: SQLite in the data directory)")
	f.fs.StringVar(&o.Blobs, "blobs", "", "shared contents: s3://BUCKET?endpoint=URL&region=R, credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (empty: under the data directory)")
	o.LookupEnv = os.LookupEnv
	if !serve {
		return f
	}
	f.fs.DurationVar(&o.GarbageGrace, "garbage-grace", 0, "with --blobs, how long a replaced or removed file's contents stay for downloads still reading them (default 1h)")
	f.fs.DurationVar(&o.Sweep.Every, "sweep-interval", 0, "with --catalog, how often one server of the cluster cleans the shared store (default 1m)")
	f.fs.DurationVar(&o.Sweep.OrphanGrace, "orphan-grace", 0, "with --catalog, how old contents no file refers to must be before the sweep removes them (default 1h)")
	f.fs.DurationVar(&o.Sweep.UnfinishedGrace, "unfinished-grace", 0, "with --catalog, how long a stopped server's unfinished uploads stay before the sweep aborts them (default 15m)")
	f.fs.StringVar(&o.Listen, "listen", ":2222", "address to listen on")
	f.fs.StringVar(&o.MetricsListen, "metrics-listen", "", "address of the HTTP listener for /metrics, /healthz and /readyz (empty: off)")
	f.fs.Func("proxy-protocol-from", "load balancers at `CIDR,...` (addresses or ranges, e.g. 10.0.0.5,10.0.1.0/24) whose PROXY protocol v2 header names the client; a header from elsewhere is refused (default: none)", func(v string) error {
		p, err := proxied.ParseSources(v)
		o.ProxyProtocolFrom = p
		return err
	})
	f.fs.StringVar(&f.signup, "signup", "open", "open: first login creates the account; closed: only `sshelf user add`")
	o.MaxFileSize = 64 << 30
	f.fs.Var(sizeFlag{&o.MaxFileSize}, "max-file-size", "largest file, e.g. 512M or 64GiB (0: no limit)")
	f.fs.Var(sizeFlag{&o.Quota}, "quota", "what each account may store, e.g. 10G (0: no limit)")
	o.MinFreeSpace = 256 << 20
	f.fs.Var(sizeFlag{&o.MinFreeSpace}, "min-free-space", "uploads are refused while the data directory's disk has less free (0: no reserve)")
	f.fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	policy(f.fs, &o.Login, "login", "failed logins per address or account")
	policy(f.fs, &o.FilePassword, "file-password", "wrong download passwords per account and file, per file and per address")
	f.fs.Var(kibFlag{&o.PasswordHashMemory}, "password-hash-memory", "Argon2id memory per password hash, e.g. 19M (default: 19M, OWASP's minimum; lower only for tests)")
	f.fs.Func("password-hash-passes", "Argon2id passes per password hash (default 2)", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 || n > 16 {
			return errors.New("want a whole number from 1 to 16")
		}
		o.PasswordHashPasses = uint32(n)
		return nil
	})
	f.fs.IntVar(&o.SignupsPerAddressPerHour, "signup-per-address-per-hour", 10, "accounts open signup creates per client address per hour (0: no limit)")
	f.fs.IntVar(&o.MaxSessions, "max-sessions", 1000, "concurrent sessions in total (0: no limit)")
	f.fs.IntVar(&o.MaxSessionsPerUser, "max-sessions-per-user", 100, "concurrent sessions per account (0: no limit)")
	f.fs.IntVar(&o.MaxSessionsPerAddress, "max-sessions-per-address", 50, "concurrent sessions per client address (0: no limit)")
	f.fs.IntVar(&o.MaxUnauthenticated, "max-unauthenticated", 1000, "connections not yet logged in, in total; more are closed at once (0: no limit)")
	f.fs.IntVar(&o.MaxUnauthenticatedPerAddress, "max-unauthenticated-per-address", 10, "connections not yet logged in per client address (0: no limit)")
	f.fs.IntVar(&o.MaxConnectionsPerAddress, "max-connections-per-address", 100, "connections per client address, logged in or not (0: no limit)")
	f.fs.DurationVar(&o.IdleTimeout, "idle-timeout", 10*time.Minute, "close a connection with no traffic for this long")
	f.fs.DurationVar(&o.AuthTimeout, "auth-timeout", 30*time.Second, "handshake and authentication deadline")
	f.fs.DurationVar(&o.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long transfers in flight may finish")
	return f
}

func policy(fs *flag.FlagSet, p *throttle.Policy, prefix, what string) {
	fs.IntVar(&p.MaxFailures, prefix+"-max-failures", 10, what+" within the window that lock out (0: off)")
	fs.DurationVar(&p.Window, prefix+"-window", 10*time.Minute, "window in which "+what+" count")
	fs.DurationVar(&p.Lockout, prefix+"-lockout", 10*time.Minute, "how long a lockout for "+what+" lasts")
	fs.DurationVar(&p.BaseDelay, prefix+"-delay", 200*time.Millisecond, "delay of the answer after the second failure, doubling after each")
	p.MaxDelay = 3 * time.Second
}

// parse reads flags from the environment (SSHELF_NAME) and then from args,
// flags and positional arguments in any order; it returns the positionals.
func (f *flags) parse(args []string) ([]string, error) {
	var err error
	f.fs.VisitAll(func(fl *flag.Flag) {
		env := "SSHELF_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && err == nil {
			if e := fl.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var positional []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.fs.SetOutput(f.help)
				fmt.Fprintf(f.help, "usage of sshelf %s (every flag also reads SSHELF_NAME, e.g. --max-file-size from SSHELF_MAX_FILE_SIZE):\n", f.fs.Name())
				f.fs.PrintDefaults()
				return nil, err
			}
			return nil, f.explain(err)
		}
		args = f.fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	switch f.signup {
	case "open", "":
		f.opt.SignupOpen = true
	case "closed":
	default:
		return nil, fmt.Errorf("--signup must be open or closed, not %q", f.signup)
	}
	return positional, nil
}

// explain adds the accepted form to the flag package's "parse error" for
// numbers and durations; size flags say theirs already.
func (f *flags) explain(err error) error {
	msg := err.Error()
	if !strings.HasSuffix(msg, ": parse error") {
		return err
	}
	i := strings.Index(msg, " for flag -")
	if i < 0 {
		return err
	}
	name := strings.TrimSuffix(msg[i+len(" for flag -"):], ": parse error")
	fl := f.fs.Lookup(name)
	if fl == nil {
		return err
	}
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return err
	}
	form := ""
	switch g.Get().(type) {
	case time.Duration:
		form = "want a duration such as 30s, 10m or 1h30m"
	case int, int64, uint, uint64:
		form = "want a whole number"
	case bool:
		form = "want true or false"
	default:
		return err
	}
	return fmt.Errorf("%s: %s", strings.TrimSuffix(msg, ": parse error"), form)
}

func (f *flags) logger(stderr io.Writer) (*slog.Logger, error) {
	switch f.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, nil)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", f.logFormat)
}

func serve(args []string, stderr io.Writer) int {
	f := newFlags("serve", stderr, true)
	rest, err := f.parse(args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sshelf: serve: %v\n", err)
		return 2
	}
	log, err := f.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sshelf: serve: %v\n", err)
		return 2
	}
	f.opt.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, set := os.LookupEnv("GOGC"); !set {
		// 10 MiB of headroom over the live heap between collections: see
		// internal/gcpace. GOGC, when set, is the operator's choice.
		go gcpace.Keep(ctx, 10<<20)
	}
	a, err := app.Open(ctx, f.opt)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	if err := a.Serve(ctx, ln, tui.Handler(a.Files, a.Observer())); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	return 0
}

func user(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newFlags("user", stderr, false)
	pos, err := f.parse(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sshelf: user: %v\n", err)
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "sshelf: user: "+format+"\n", a...)
		return code
	}
	want := map[string]int{"add": 2, "passwd": 2, "del": 2, "list": 1, "key": 3, "unlock": 2}
	if len(pos) >= 2 && pos[0] == "key" && pos[1] == "del" {
		want["key"] = 4
	}
	if len(pos) == 0 || want[pos[0]] == 0 || len(pos) != want[pos[0]] || pos[0] == "key" && !slices.Contains([]string{"add", "list", "del"}, pos[1]) {
		return fail(2, "usage: sshelf user add NAME | passwd NAME | del NAME | list | key add|list NAME | key del NAME FINGERPRINT | unlock NAME|ADDRESS")
	}
	if pos[0] == "unlock" && f.opt.Catalog == "" {
		// Unlocking a data directory that is not there is a typo, not a
		// new server.
		if _, err := os.Stat(f.opt.Data); err != nil {
			return fail(1, "unlock %s: data directory %s: %v", pos[1], f.opt.Data, errors.Unwrap(err))
		}
	}
	ctx := context.Background()
	a, err := app.OpenExisting(ctx, f.opt)
	if err != nil {
		return fail(1, "%v", err)
	}
	defer a.Close()
	in := bufio.NewReader(stdin)
	switch pos[0] {
	case "add", "passwd":
		pw, err := readPassword(in, stderr)
		if err != nil {
			return fail(1, "%s %s: %v", pos[0], pos[1], err)
		}
		if pos[0] == "add" {
			err = a.Accounts.Add(ctx, pos[1], pw)
		} else {
			err = a.Accounts.SetPassword(ctx, pos[1], pw)
		}
		if err != nil {
			return fail(1, "%s %s: %v", pos[0], pos[1], err)
		}
	case "del":
		n, err := a.DeleteUser(ctx, pos[1])
		if err != nil {
			return fail(1, "del %s: %v", pos[1], err)
		}
		fmt.Fprintf(stdout, "deleted %s and %s\n", pos[1], plural(n, "file"))
	case "list":
		names, err := a.Accounts.List(ctx)
		if err != nil {
			return fail(1, "list: %v", err)
		}
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
	case "unlock":
		done, err := a.Unlock(ctx, pos[1])
		if err != nil {
			return fail(1, "%v", err)
		}
		if len(done) == 0 {
			fmt.Fprintf(stdout, "nothing to unlock for %s\n", pos[1])
		}
		for _, d := range done {
			fmt.Fprintf(stdout, "unlocked %s\n", d)
		}
	case "key":
		switch pos[1] {
		case "list":
			keys, err := a.Accounts.ListKeys(ctx, pos[2])
			if err != nil {
				return fail(1, "%v", err)
			}
			for _, k := range keys {
				fmt.Fprintln(stdout, k)
			}
			return 0
		case "del":
			if err := a.Accounts.DeleteKey(ctx, pos[2], pos[3]); err != nil {
				return fail(1, "%v", err)
			}
			return 0
		}
		line, err := in.ReadString('\n')
		if err != nil && (err != io.EOF || strings.TrimSpace(line) == "") {
			return fail(1, "key add %s: expected one authorized_keys line on stdin", pos[2])
		}
		if err := a.Accounts.AddKey(ctx, pos[2], line); err != nil {
			return fail(1, "key add %s: %v", pos[2], err)
		}
	}
	return 0
}

// readPassword prompts twice on a terminal, or reads one line of stdin.
func readPassword(in *bufio.Reader, stderr io.Writer) (string, error) {
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		fmt.Fprint(stderr, "Password: ")
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("passwords differ")
		}
		return string(p1), nil
	}
	line, err := in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("expected the password as one line on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func plural(n int, what string) string {
	return strconv.Itoa(n) + " " + what + map[bool]string{true: "", false: "s"}[n == 1]
}
