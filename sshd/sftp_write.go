package sshd

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
)

// Filewrite starts an upload. It is stored public and unprotected unless
// the session's SSHELF_HIDDEN and SSHELF_FILE_PASSWORD say otherwise; the
// mode the client sends with the open is ignored (OpenSSH sends the local
// file's, which says nothing about who should see the upload).
func (fs *sftpSession) Filewrite(r *sftp.Request) (w io.WriterAt, err error) {
	defer fs.catch("open", &err)
	return fs.create(r)
}

// OpenFile serves an open for reading and writing: an upload whose bytes
// the client may read back.
func (fs *sftpSession) OpenFile(r *sftp.Request) (rw sftp.WriterAtReaderAt, err error) {
	defer fs.catch("open", &err)
	return fs.create(r)
}

func (fs *sftpSession) create(r *sftp.Request) (*sftpUpload, error) {
	start := time.Now()
	name, err := parseSFTPName(r.Filepath)
	if err != nil {
		return nil, sftpError(err)
	}
	// An open without TRUNC keeps the bytes the client does not write, as
	// on any SFTP server: appending, resuming (sftp reput), or changing a
	// part. The new version is still committed whole on close, or not.
	flags := r.Pflags()
	opts, _ := fs.settings.Upload(name, nil, -1) // no flags: cannot fail
	opts.KeepOld, opts.Exclusive, opts.MustExist = !flags.Trunc, flags.Excl, !flags.Creat
	up, err := fs.srv.cfg.Files.Create(fs.ctx, fs.user, opts)
	if err != nil {
		fs.audit("put", name, result{}, err, start)
		return nil, sftpError(err)
	}
	u := &sftpUpload{fs: fs, up: up, start: start}
	fs.addUpload(u)
	return u, nil
}

// sftpUpload is an open upload handle. Its content becomes the file only
// on a clean close (rule 6); pkg/sftp also closes the handles of a session
// that broke off, after telling them so through TransferError.
type sftpUpload struct {
	fs    *sftpSession
	up    *files.Upload
	start time.Time

	mu     sync.Mutex
	failed error // a write failed or the session broke: never commit
	closed bool
	// pkg/sftp hands a session's WRITEs to several goroutines, which come
	// here in any order; a write out of order costs files.Upload a read
	// back to hash it. So the writes waiting here go lowest offset first:
	// arriving lists them, and one waits while a lower one is listed (the
	// lowest never waits).
	arrived []int64
	turn    *sync.Cond
}

func (u *sftpUpload) WriteAt(p []byte, off int64) (n int, err error) {
	defer u.catch("write", &err)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.awaitTurn(off)
	if u.failed != nil {
		return 0, sftpError(u.failed)
	}
	if err := checkOffset(off); err != nil {
		u.failed = err
		return 0, sftpError(err)
	}
	n, err = u.up.WriteAt(p, off)
	if err != nil {
		u.failed = err
		return n, sftpError(err)
	}
	return n, nil
}

// awaitTurn returns, with u.mu held, once no write below off is waiting.
func (u *sftpUpload) awaitTurn(off int64) {
	if u.turn == nil {
		u.turn = sync.NewCond(&u.mu)
	}
	u.arrived = append(u.arrived, off)
	for u.lowerArrived(off) {
		u.turn.Wait()
	}
	i := slices.Index(u.arrived, off)
	u.arrived = slices.Delete(u.arrived, i, i+1)
	u.turn.Broadcast()
}

func (u *sftpUpload) lowerArrived(off int64) bool {
	for _, o := range u.arrived {
		if o < off {
			return true
		}
	}
	return false
}

func (u *sftpUpload) ReadAt(p []byte, off int64) (n int, err error) {
	defer u.catch("read", &err)
	if err := checkOffset(off); err != nil {
		return 0, sftpError(err)
	}
	n, err = u.up.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, sftpError(err)
	}
	return n, err
}

// truncate shortens the upload, as scp and lftp do on the open handle;
// files.Upload refuses to lengthen it (files.ErrTruncateGrow).
func (u *sftpUpload) truncate(size int64) (err error) {
	defer u.catch("truncate", &err)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed != nil {
		return u.failed
	}
	return u.up.Truncate(size)
}

// TransferError is pkg/sftp's notice that the session ended with this
// handle open: the upload is incomplete, whatever Close then says.
func (u *sftpUpload) TransferError(err error) {
	defer u.catch("transfer error", new(error))
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failed == nil {
		u.failed = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
	}
}

// Close commits the upload if nothing failed (files/ refuses one with bytes
// never written), and aborts it otherwise.
func (u *sftpUpload) Close() (err error) {
	defer u.catch("close", &err)
	u.fs.dropUpload(u)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	u.closed = true
	size := u.up.Size()
	if err := u.failed; err != nil {
		u.up.Abort()
		if !files.IsUserError(err) {
			err = fmt.Errorf("%w: %v", files.ErrIncomplete, err)
		}
		u.fs.audit("put", u.up.Name(), result{bytes: size}, err, u.start)
		return sftpError(err)
	}
	f, err := u.up.Commit(u.fs.ctx)
	u.fs.audit("put", u.up.Name(), result{bytes: size, sha256: f.SHA256}, err, u.start)
	return sftpError(err)
}
