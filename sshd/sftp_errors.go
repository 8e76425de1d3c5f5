package sshd

import (
	"errors"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
)

var (
	// errIsRoot is a file operation on the root directory.
	errIsRoot = errors.New("the root directory is not a file")
	// errNoDirectories refuses mkdir, rmdir, symlink and link.
	errNoDirectories = errors.New("sshelf has one flat directory: no directories or links")
	// errUnsupported is a request sshelf does not implement.
	errUnsupported = errors.New("operation not supported")
	// errBadRequest is a request whose values cannot be used: attributes
	// its flags promise but that are absent, an offset or a size beyond
	// what a file can have.
	errBadRequest = errors.New("malformed request")
)

// sftpError is the one place files/ errors become SFTP statuses. pkg/sftp
// would send most of them as a generic FAILURE (it neither unwraps a
// wrapped os.ErrNotExist nor maps os.ErrPermission), so each is given its
// status explicitly; the message is the rule's own words.
func sftpError(err error) error {
	if err == nil {
		return nil
	}
	var code error
	switch {
	case errors.Is(err, files.ErrNotFound):
		code = sftp.ErrSSHFxNoSuchFile
	case errors.Is(err, files.ErrPermission), errors.Is(err, files.ErrNameTaken),
		errors.Is(err, files.ErrPasswordRequired), errors.Is(err, files.ErrWrongPassword),
		errors.Is(err, files.ErrThrottled), errors.Is(err, errNoDirectories),
		errors.Is(err, errIsRoot):
		code = sftp.ErrSSHFxPermissionDenied
	case errors.Is(err, errUnsupported), errors.Is(err, files.ErrTruncateGrow):
		code = sftp.ErrSSHFxOpUnsupported
	case errors.Is(err, errBadRequest):
		code = sftp.ErrSSHFxBadMessage
	default:
		code = sftp.ErrSSHFxFailure
	}
	return &sftpStatus{msg: sftpReason(err), code: code}
}

// sftpStatus carries a status code for pkg/sftp (found with errors.As) and
// the message sent with it.
type sftpStatus struct {
	msg  string
	code error
}

func (e *sftpStatus) Error() string { return e.msg }
func (e *sftpStatus) Unwrap() error { return e.code }

// sftpRefusals are the transport's own refusals, beside files/ errors.
var sftpRefusals = []error{errIsRoot, errNoDirectories, errUnsupported, errBadRequest}

func isSFTPRefusal(err error) bool {
	for _, e := range sftpRefusals {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// sftpReason is the text sent with a status: never a path or a password.
func sftpReason(err error) string {
	if errors.Is(err, errBadRequest) {
		return err.Error() // what was wrong, in the transport's own words
	}
	for _, e := range sftpRefusals {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return reason(err)
}
