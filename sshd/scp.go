package sshd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gliderlabs/ssh"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/internal/printable"
)

// The legacy scp protocol (scp -O): the client runs "scp -t TARGET" to
// upload and "scp -f SOURCE..." to download, and the two sides exchange
// "C0644 SIZE NAME\n" records, the content, and status bytes: 0 for ok, 1
// and a message line for an error, 2 and a line for a fatal one. Only
// single files: there are no directories. The rules are files.Service's.

const (
	scpOK    = 0
	scpError = 1
	scpFatal = 2
	// maxSCPLine bounds a record line (a name is at most 255 bytes).
	maxSCPLine = 4 << 10
)

var (
	errSCPDirectories = files.Refuse(files.KindUnsupported, "directories are not supported (no -r): sshelf has one flat directory")
	// errSCPProtocol is wrapped with what was wrong, which the client is told.
	errSCPProtocol = &files.Refusal{Kind: files.KindUsage, Msg: "scp protocol error", Detailed: true}
)

// scpArgs is a parsed "scp -t|-f [-prdvq] [--] PATH..." command line.
type scpArgs struct {
	sink, source bool // -t: the client uploads; -f: it downloads
	recursive    bool
	preserve     bool
	paths        []string
}

// SCPCommand reports whether a session's command is scp's, and splits it.
func SCPCommand(raw string) ([]string, bool) {
	if !strings.HasPrefix(strings.TrimSpace(raw), "scp ") {
		return nil, false
	}
	argv, err := ops.SplitWords(raw)
	if err != nil || len(argv) == 0 || argv[0] != "scp" {
		return nil, false
	}
	return argv, true
}

func parseSCPArgs(argv []string) (scpArgs, error) {
	var a scpArgs
	if len(argv) == 0 {
		return a, &ops.UsageError{Command: "scp", Msg: "no command"}
	}
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			a.paths = append(a.paths, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			a.paths = append(a.paths, arg)
			continue
		}
		for _, f := range arg[1:] {
			switch f {
			case 't':
				a.sink = true
			case 'f':
				a.source = true
			case 'r':
				a.recursive = true
			case 'p':
				a.preserve = true
			case 'd', 'v', 'q':
			default:
				return a, &ops.UsageError{Command: "scp", Msg: fmt.Sprintf("unknown option -%c", f)}
			}
		}
	}
	switch {
	case a.sink == a.source:
		return a, &ops.UsageError{Command: "scp", Msg: "need exactly one of -t and -f"}
	case a.sink && len(a.paths) != 1:
		return a, &ops.UsageError{Command: "scp", Msg: "-t takes one target"}
	case a.source && len(a.paths) == 0:
		return a, &ops.UsageError{Command: "scp", Msg: "-f needs a file name"}
	}
	return a, nil
}

// scpSession is one legacy scp command.
type scpSession struct {
	s        *Server
	ctx      context.Context
	in       *bufio.Reader
	out      io.Writer
	user     string
	addr     string
	settings ops.Settings // SSHELF_FILE_PASSWORD, SSHELF_HIDDEN
	failed   bool         // some file failed: exit status 1
}

// scp serves a legacy scp command and returns the exit status.
func (s *Server) scp(sess ssh.Session, argv []string) int {
	return s.ServeSCP(sess.Context(), sess.User(), sess.RemoteAddr().String(), sessionSettings(sess),
		argv, bufio.NewReaderSize(sess, 64<<10), sess)
}

// ServeSCP serves the legacy scp command argv (split by SCPCommand) of
// user, logged in from addr, over in and out, and returns its exit
// status: an exec session's scp without SSH, for the fuzz target
// (sshd/sshdfuzz).
func (s *Server) ServeSCP(ctx context.Context, user, addr string, settings ops.Settings, argv []string, in io.Reader, out io.Writer) int {
	br, ok := in.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(in)
	}
	sc := &scpSession{s: s, ctx: ctx, in: br, out: out, user: user, addr: addr, settings: settings}
	return sc.run(argv)
}

// SCPAnswersInStatuses reports whether the scp command argv writes only
// status bytes (0, or 1 or 2 and a line): a sink (scp -t), or a command
// refused. A source (scp -f) sends files.
func SCPAnswersInStatuses(argv []string) bool {
	a, err := parseSCPArgs(argv)
	return err != nil || a.sink
}

// run serves the command argv over the session's streams.
func (sc *scpSession) run(argv []string) int {
	a, err := parseSCPArgs(argv)
	if err == nil && a.recursive {
		err = errSCPDirectories
	}
	if err != nil {
		sc.audit("scp", "", result{}, err, time.Now())
		sc.status(scpFatal, "sshelf: scp: "+files.Reason(err))
		return 1
	}
	if a.sink {
		err = sc.sink(a.paths[0])
	} else {
		err = sc.source(a.paths, a.preserve)
	}
	if err != nil || sc.failed {
		return 1
	}
	return 0
}

func (sc *scpSession) audit(op, name string, res result, err error, start time.Time) {
	sc.s.report(sc.ctx, sc.user, sc.addr, "scp", op, name, res, err, start)
}

// status sends a status byte, with a message line for an error.
func (sc *scpSession) status(code byte, msg string) error {
	if code == scpOK {
		_, err := sc.out.Write([]byte{scpOK})
		return err
	}
	_, err := fmt.Fprintf(sc.out, "%c%s\n", code, printable.Line(msg))
	return err
}

// readLine reads one record line without its newline.
func (sc *scpSession) readLine() (string, error) {
	var b strings.Builder
	for b.Len() < maxSCPLine {
		c, err := sc.in.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return b.String(), nil
		}
		b.WriteByte(c)
	}
	return "", fmt.Errorf("%w: line longer than %d bytes", errSCPProtocol, maxSCPLine)
}

// readStatus reads the peer's status byte; an error's message is returned
// as an error.
func (sc *scpSession) readStatus() error {
	c, err := sc.in.ReadByte()
	if err != nil {
		return err
	}
	switch c {
	case scpOK:
		return nil
	case scpError, scpFatal:
		msg, _ := sc.readLine()
		return fmt.Errorf("client: %s", msg)
	}
	return fmt.Errorf("%w: status byte %d", errSCPProtocol, c)
}

// parseCRecord parses "C0644 SIZE NAME".
func parseCRecord(line string) (size int64, name string, err error) {
	fields := strings.SplitN(line[1:], " ", 3)
	if len(fields) != 3 || len(fields[0]) != 4 || strings.Trim(fields[0], "01234567") != "" {
		return 0, "", fmt.Errorf("%w: bad file record", errSCPProtocol)
	}
	size, err = strconv.ParseInt(fields[1], 10, 64)
	if err != nil || size < 0 {
		return 0, "", fmt.Errorf("%w: bad size in file record", errSCPProtocol)
	}
	return size, fields[2], nil
}

// scpErrorLine is the message sent with an error status.
func scpErrorLine(op, name string, err error) string {
	return fmt.Sprintf("sshelf: %s: %s: %s", op, printable.String(name), flaglessReason(err))
}
