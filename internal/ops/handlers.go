package ops

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sshelf/sshelf/files"
)

// bufPool holds copy buffers, reused across transfers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// CopyBuffered copies with a pooled 256 KiB buffer (every transport's
// transfers use it).
func CopyBuffered(dst io.Writer, src io.Reader) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return io.CopyBuffer(dst, src, *bp)
}

func runPut(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	opts, err := cl.Settings.Upload(c.File, &c, cl.Size)
	if err != nil {
		return Result{}, err
	}
	up, err := r.Files.Create(ctx, cl.User, opts)
	if err != nil {
		return Result{}, err
	}
	// A panic unwinding through here (recovered per session) must not
	// leave the spool file behind; after Commit, Abort does nothing.
	defer up.Abort()
	n, err := CopyBuffered(up, cl.In)
	if err == nil && cl.Confirm != nil {
		err = cl.Confirm()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		up.Abort()
		if !files.IsUserError(err) {
			err = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
		}
		return Result{Bytes: n}, err
	}
	f, err := up.Commit(ctx)
	if err != nil {
		return Result{Bytes: n}, err
	}
	_, err = fmt.Fprintf(cl.Out, "%s  %s\n", f.SHA256, f.Name)
	return Result{Bytes: n, SHA256: f.SHA256}, err
}

// listWriters batch ls output into large writes (one subsystem data chunk,
// one SSH packet, per 64 KiB rather than per line), reused across requests.
var listWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func runList(ctx context.Context, r *Runner, c Command, cl *Call) (Result, error) {
	w := listWriters.Get().(*bufio.Writer)
	w.Reset(cl.Out)
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
		page, err := r.Files.List(ctx, cl.User, after, 1000)
		if err != nil {
			return Result{}, err
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
			return Result{}, err
		}
	}
	if c.JSON {
		w.WriteString("]\n")
	}
	return Result{}, w.Flush()
}

func runPasswd(ctx context.Context, r *Runner, _ Command, cl *Call) (Result, error) {
	br := bufio.NewReaderSize(io.LimitReader(cl.In, 8<<10), 8<<10)
	var lines [2]string
	for i := range lines {
		line, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return Result{}, &UsageError{Command: "passwd", Msg: "expected the old and the new password, one line each on stdin"}
		}
		lines[i] = strings.TrimRight(line, "\r\n")
	}
	return Result{}, accountRefusal(r.Accounts.ChangePassword(ctx, cl.User, lines[0], lines[1], cl.Addr))
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
