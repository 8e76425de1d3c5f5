package sshd

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sshelf/sshelf/files"
)

// sink receives files: "scp -t TARGET". TARGET is the root (the files
// keep the names the client sends) or one file name.
func (sc *scpSession) sink(target string) error {
	dest, err := parseSFTPPath(target)
	if err != nil {
		sc.audit("put", target, result{}, err, time.Now())
		sc.status(scpFatal, scpErrorLine("put", target, err))
		return err
	}
	if err := sc.status(scpOK, ""); err != nil {
		return err
	}
	for {
		line, err := sc.readLine()
		if err == io.EOF {
			return nil // the client is done
		}
		if err != nil {
			return err
		}
		if line == "" {
			sc.status(scpFatal, "sshelf: scp: "+errSCPProtocol.Error())
			return errSCPProtocol
		}
		switch line[0] {
		case 'T':
			// Times (scp -p): accepted and ignored, as over SFTP.
			if err := sc.status(scpOK, ""); err != nil {
				return err
			}
		case 'C':
			size, name, err := parseCRecord(line)
			if err != nil {
				sc.status(scpFatal, "sshelf: scp: "+err.Error())
				return err
			}
			if !dest.root {
				name = dest.name
			}
			if err := sc.receive(name, size); err != nil {
				return err
			}
		case 'D', 'E':
			sc.audit("put", "", result{}, errSCPDirectories, time.Now())
			sc.status(scpFatal, "sshelf: scp: "+errSCPDirectories.Error())
			return errSCPDirectories
		case scpError, scpFatal:
			// The client could not read a file of its own; it said so.
			sc.failed = true
			if line[0] == scpFatal {
				return errors.New("client gave up")
			}
		default:
			sc.status(scpFatal, "sshelf: scp: "+errSCPProtocol.Error())
			return errSCPProtocol
		}
	}
}

// receive stores one file of size bytes. A refusal before the content is
// answered at once and the session goes on; the upload is committed only
// when every byte and then the client's final ok arrived (rule 6). It
// returns an error only when the session cannot go on.
func (sc *scpSession) receive(name string, size int64) error {
	start := time.Now()
	opts, _ := sc.settings.Upload(name, nil, size) // no flags: cannot fail
	up, err := sc.s.cfg.Files.Create(sc.ctx, sc.user, opts)
	if err != nil {
		sc.failed = true
		sc.audit("put", name, result{}, err, start)
		return sc.status(scpError, scpErrorLine("put", name, err))
	}
	// Whatever ends this function, a panic included, leaves no upload
	// behind; after a Commit, Abort does nothing.
	defer up.Abort()
	if err := sc.status(scpOK, ""); err != nil {
		return err
	}
	n, err := copyBuffered(up, io.LimitReader(sc.in, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		// A refused write (quota, size) leaves the rest of the content
		// unread: the session cannot go on either way.
		up.Abort()
		if !files.IsUserError(err) {
			err = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
		}
		sc.failed = true
		sc.audit("put", name, result{bytes: n}, err, start)
		sc.status(scpFatal, scpErrorLine("put", name, err))
		return err
	}
	if err := sc.readStatus(); err != nil {
		up.Abort()
		err = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
		sc.failed = true
		sc.audit("put", name, result{bytes: n}, err, start)
		return sc.status(scpError, scpErrorLine("put", name, err))
	}
	f, err := up.Commit(sc.ctx)
	sc.audit("put", name, result{bytes: n, sha256: f.SHA256}, err, start)
	if err != nil {
		sc.failed = true
		return sc.status(scpError, scpErrorLine("put", name, err))
	}
	return sc.status(scpOK, "")
}
