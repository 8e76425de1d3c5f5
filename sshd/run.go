package sshd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sshelf/sshelf/auth"
	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// call is what one command runs with: who, and how its bytes move.
type call struct {
	user, addr  string
	transport   string    // "exec" or "sshelf", for the log
	envPassword string    // SSHELF_FILE_PASSWORD of the session
	in          io.Reader // put content; passwd lines
	out         io.Writer // what the command prints
	// size is the content length the client declared, or -1.
	size int64
	// confirm, if set, is called after the content ended: it fails if the
	// client did not really finish (its connection dropped).
	confirm func() error
}

// result is what a command did, for the log and for framing.
type result struct {
	bytes  int64
	sha256 string
}

// bufPool holds copy buffers, reused across transfers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func copyBuffered(dst io.Writer, src io.Reader) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return io.CopyBuffer(dst, src, *bp)
}

// run executes a parsed command against the files service.
func (s *Server) run(ctx context.Context, c Command, cl *call) (result, error) {
	fs := s.cfg.Files
	password := cl.envPassword
	if c.HasPass {
		password = c.Password
	}
	switch c.Name {
	case "help":
		_, err := io.WriteString(cl.out, HelpText())
		return result{}, err
	case "whoami":
		_, err := fmt.Fprintln(cl.out, cl.user)
		return result{}, err
	case "ls":
		return result{}, s.list(ctx, c, cl)
	case "info":
		// Only --password shows another's protected hash here: a session's
		// SSHELF_FILE_PASSWORD is for downloads and sum, and info must not
		// spend a counted try unasked.
		f, err := fs.InfoWithPassword(ctx, cl.user, c.File, c.Password)
		if err != nil {
			return result{}, err
		}
		if c.JSON {
			err = json.NewEncoder(cl.out).Encode(jsonFile(f))
		} else {
			_, err = io.WriteString(cl.out, infoText(f))
		}
		return result{sha256: f.SHA256}, err
	case "sum":
		f, err := fs.Sum(ctx, cl.user, c.File, password)
		if err != nil {
			return result{}, err
		}
		_, err = fmt.Fprintf(cl.out, "%s  %s\n", f.SHA256, f.Name)
		return result{sha256: f.SHA256}, err
	case "get":
		d, err := fs.Open(ctx, cl.user, c.File, password)
		if err != nil {
			return result{}, err
		}
		defer d.Close()
		n, err := copyBuffered(cl.out, d)
		return result{bytes: n, sha256: d.SHA256}, err
	case "put":
		return s.put(ctx, c, cl, password)
	case "rm":
		return result{}, fs.Remove(ctx, cl.user, c.File)
	case "hide", "unhide":
		return result{}, fs.SetHidden(ctx, cl.user, c.File, c.Name == "hide")
	case "protect":
		return result{}, fs.Protect(ctx, cl.user, c.File, c.Password, c.OldPass)
	case "unprotect":
		return result{}, fs.Unprotect(ctx, cl.user, c.File, password)
	case "passwd":
		return result{}, s.passwd(ctx, cl)
	}
	return result{}, &UsageError{Msg: fmt.Sprintf("unknown command %q", c.Name)}
}

func (s *Server) put(ctx context.Context, c Command, cl *call, password string) (result, error) {
	// Only --password protects an upload. SSHELF_FILE_PASSWORD is the
	// current password of a protected file being replaced (SFTP, having no
	// flags, uses it for both).
	if !c.HasPass {
		password = ""
	}
	if c.HasPass && password == "" {
		return result{}, files.ErrEmptyPassword
	}
	up, err := s.cfg.Files.Create(ctx, cl.user, files.PutOptions{
		Name: c.File, Hidden: c.Hidden, Password: password, SHA256: c.SHA256, Size: cl.size,
		CurrentPassword: cl.envPassword,
	})
	if err != nil {
		return result{}, err
	}
	n, err := copyBuffered(up, cl.in)
	if err == nil && cl.confirm != nil {
		err = cl.confirm()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		up.Abort()
		if !files.IsUserError(err) {
			err = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
		}
		return result{bytes: n}, err
	}
	f, err := up.Commit(ctx)
	if err != nil {
		return result{bytes: n}, err
	}
	_, err = fmt.Fprintf(cl.out, "%s  %s\n", f.SHA256, f.Name)
	return result{bytes: n, sha256: f.SHA256}, err
}

// listWriters batch ls output into large writes (one subsystem data chunk,
// one SSH packet, per 64 KiB rather than per line), reused across requests.
var listWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func (s *Server) list(ctx context.Context, c Command, cl *call) error {
	w := listWriters.Get().(*bufio.Writer)
	w.Reset(cl.out)
	defer func() {
		w.Reset(nil) // drop the session's writer before pooling
		listWriters.Put(w)
	}()
	after := ""
	first := true
	if c.JSON {
		w.WriteString("[")
	}
	for {
		page, err := s.cfg.Files.List(ctx, cl.user, after, 1000)
		if err != nil {
			return err
		}
		for _, f := range page {
			switch {
			case c.JSON:
				if !first {
					w.WriteString(",")
				}
				b, _ := json.Marshal(jsonFile(f))
				w.Write(b)
			case c.Long:
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", f.Name, f.Size, f.Owner, yesNo(f.Protected), f.Uploaded.Format(time.RFC3339))
			default:
				w.WriteString(f.Name)
				w.WriteByte('\n')
			}
			first = false
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Name
		// Flush each page so a long listing starts at once.
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if c.JSON {
		w.WriteString("]\n")
	}
	return w.Flush()
}

func (s *Server) passwd(ctx context.Context, cl *call) error {
	r := bufio.NewReaderSize(io.LimitReader(cl.in, 8<<10), 8<<10)
	var lines [2]string
	for i := range lines {
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return &UsageError{Command: "passwd", Msg: "expected the old and the new password, one line each on stdin"}
		}
		lines[i] = strings.TrimRight(line, "\r\n")
	}
	return accountRefusal(s.cfg.Accounts.ChangePassword(ctx, cl.user, lines[0], lines[1], cl.addr))
}

// accountRefusal gives the account rules' refusals their kind and words;
// the auth error stays wrapped for errors.Is.
func accountRefusal(err error) error {
	var r *files.Refusal
	switch {
	case errors.Is(err, auth.ErrDenied):
		r = files.Refuse(files.KindWrongPassword, "wrong password")
	case errors.Is(err, auth.ErrLocked):
		r = files.Refuse(files.KindThrottled, auth.ErrLocked.Error())
	case errors.Is(err, auth.ErrEmptyPass):
		r = files.Refuse(files.KindInvalid, auth.ErrEmptyPass.Error())
	default:
		return err
	}
	return fmt.Errorf("%w: %w", r, err)
}

type fileJSON struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Owner      string `json:"owner"`
	Visibility string `json:"visibility"`
	Protected  bool   `json:"protected"`
	SHA256     string `json:"sha256"`
	Uploaded   string `json:"uploaded"`
}

func jsonFile(f files.File) fileJSON {
	return fileJSON{f.Name, f.Size, f.Owner, f.Visibility(), f.Protected, f.SHA256, f.Uploaded.UTC().Format(time.RFC3339)}
}

// withheldHash stands for the SHA-256 of a protected file in info's text
// (JSON has "sha256": ""): shown to its owner or with its password only.
const withheldHash = "(withheld: protected file)"

func infoText(f files.File) string {
	sum := f.SHA256
	if sum == "" {
		sum = withheldHash
	}
	return fmt.Sprintf("name: %s\nsize: %d\nowner: %s\nvisibility: %s\nprotected: %s\nsha256: %s\nuploaded: %s\n",
		f.Name, f.Size, f.Owner, f.Visibility(), yesNo(f.Protected), sum, f.Uploaded.UTC().Format(time.RFC3339))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// exitCode maps an error to the contract's exit status, by its kind: the
// one place exec statuses and the subsystem's end-line statuses come from.
func exitCode(err error) int {
	return exitStatus(files.KindOf(err))
}

func exitStatus(k files.Kind) int {
	switch k {
	case files.KindNone:
		return 0
	case files.KindUsage:
		return 2
	}
	return 1
}

// reason is the user-facing text of err: never a path or a password.
func reason(err error) string { return files.Reason(err) }

// errorLine formats an error as the contract's one line:
// "sshelf: COMMAND: NAME: reason".
func errorLine(c Command, err error) string {
	parts := []string{"sshelf"}
	if c.Name != "" {
		parts = append(parts, printable.String(c.Name)) // an unknown command is the client's word
	}
	if c.File != "" {
		parts = append(parts, printable.String(c.File))
	}
	parts = append(parts, reason(err))
	// The reason is the server's words; Line is the guard that keeps the
	// whole one printable line whatever a message quoted.
	return printable.Line(strings.Join(parts, ": "))
}
