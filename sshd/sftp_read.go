package sshd

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
)

// Fileread opens a download: any visibility (rule 2), the session's
// SSHELF_FILE_PASSWORD for a protected file (rule 3).
func (fs *sftpSession) Fileread(r *sftp.Request) (rd io.ReaderAt, err error) {
	defer fs.catch("open", &err)
	start := time.Now()
	name, err := parseSFTPName(r.Filepath)
	if err != nil {
		return nil, sftpError(err)
	}
	d, err := fs.srv.cfg.Files.Open(fs.ctx, fs.user, name, fs.settings.DownloadPassword(nil))
	if err != nil {
		fs.audit("get", name, result{}, err, start)
		return nil, sftpError(err)
	}
	return &sftpDownload{fs: fs, d: d, start: start}, nil
}

// sftpDownload is an open download handle. files.Download checks the
// content against its SHA-256 whatever order the client reads in (rule 7).
type sftpDownload struct {
	fs    *sftpSession
	d     *files.Download
	start time.Time
	bytes atomic.Int64
	err   atomic.Pointer[error] // first failure, for the log
}

func (h *sftpDownload) ReadAt(p []byte, off int64) (n int, err error) {
	defer h.fs.catch("read", &err)
	if err := checkOffset(off); err != nil {
		return 0, sftpError(err)
	}
	n, err = h.d.ReadAt(p, off)
	h.bytes.Add(int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		first := err // not &err: the return below changes err
		h.err.CompareAndSwap(nil, &first)
		return n, sftpError(err)
	}
	return n, err
}

// checkOffset refuses an offset pkg/sftp turned negative: it converts the
// packet's uint64 to an int64 unchecked.
func checkOffset(off int64) error {
	if off < 0 {
		return fmt.Errorf("%w: offset out of range", errBadRequest)
	}
	return nil
}

// TransferError records why the session ended with the file open.
func (h *sftpDownload) TransferError(err error) {
	defer h.fs.catch("transfer error", new(error))
	h.err.CompareAndSwap(nil, &err)
}

// Close logs the download. A client may stop reading early (head, resume):
// that is its choice, not a failure.
func (h *sftpDownload) Close() (err error) {
	defer h.fs.catch("close", &err)
	if p := h.err.Load(); p != nil {
		err = *p
	}
	res := result{bytes: h.bytes.Load()}
	if h.d.Verified() {
		res.sha256 = h.d.SHA256
	}
	h.fs.audit("get", h.d.Name, res, err, h.start)
	return h.d.Close()
}
