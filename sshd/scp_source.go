package sshd

import (
	"fmt"
	"io"
	"time"
)

// source sends files: "scp -f NAME...". Names are taken literally: there
// is no shell to expand patterns.
func (sc *scpSession) source(names []string, preserve bool) error {
	// The client starts by saying it is ready.
	if err := sc.readStatus(); err != nil {
		return err
	}
	for _, p := range names {
		if err := sc.send(p, preserve); err != nil {
			return err
		}
	}
	return nil
}

// send sends one file: any visibility (rule 2), the session's
// SSHELF_FILE_PASSWORD for a protected one (rule 3), checked against its
// SHA-256 as it streams (rule 7). A refusal is reported to the client and
// the session goes on; an error returned means it cannot.
func (sc *scpSession) send(path string, preserve bool) error {
	start := time.Now()
	name, err := parseSFTPName(path)
	if err != nil {
		return sc.refuse(path, err, start)
	}
	d, err := sc.s.cfg.Files.Open(sc.ctx, sc.user, name, sc.settings.DownloadPassword(nil))
	if err != nil {
		return sc.refuse(name, err, start)
	}
	defer d.Close()
	if preserve {
		t := d.Uploaded.Unix()
		if _, err := fmt.Fprintf(sc.out, "T%d 0 %d 0\n", t, t); err != nil {
			return err
		}
		if err := sc.readStatus(); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(sc.out, "C%04o %d %s\n", uint32(modeOf(d.Hidden)), d.Size, d.Name); err != nil {
		return err
	}
	if err := sc.readStatus(); err != nil {
		// The client refused the file (it cannot write it locally).
		sc.audit("get", name, result{}, err, start)
		return nil
	}
	n, err := copyBuffered(sc.out, d)
	if err != nil {
		// Keep the framing: fill the declared size, then say it failed.
		// A verification failure (rule 7) ends here, never silently.
		if _, werr := io.CopyN(sc.out, zeros{}, d.Size-n); werr != nil {
			return werr
		}
		sc.failed = true
		sc.audit("get", name, result{bytes: n}, err, start)
		return sc.status(scpError, scpErrorLine("get", name, err))
	}
	if err := sc.status(scpOK, ""); err != nil {
		return err
	}
	err = sc.readStatus()
	res := result{bytes: n}
	if err == nil {
		res.sha256 = d.SHA256
	}
	sc.audit("get", name, res, err, start)
	return err
}

// refuse reports a download refused before any content was sent.
func (sc *scpSession) refuse(name string, err error, start time.Time) error {
	sc.failed = true
	sc.audit("get", name, result{}, err, start)
	return sc.status(scpError, scpErrorLine("get", name, err))
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
