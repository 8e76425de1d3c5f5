package sshd

import (
	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
)

// The transport's own refusals, each with its kind.
var (
	// errIsRoot is a file operation on the root directory.
	errIsRoot = files.Refuse(files.KindPermission, "the root directory is not a file")
	// errNoDirectories refuses mkdir, rmdir, symlink and link.
	errNoDirectories = files.Refuse(files.KindPermission, "sshelf has one flat directory: no directories or links")
	// errUnsupported is a request sshelf does not implement.
	errUnsupported = files.Refuse(files.KindUnsupported, "operation not supported")
	// errBadRequest is a request whose values cannot be used: attributes
	// its flags promise but that are absent, an offset or a size beyond
	// what a file can have. What was wrong is told (Detailed).
	errBadRequest = &files.Refusal{Kind: files.KindUsage, Msg: "malformed request", Detailed: true}
)

// sftpCodes is the one place a kind becomes an SFTP status. pkg/sftp
// would send most errors as a generic FAILURE (it neither unwraps a
// wrapped os.ErrNotExist nor maps os.ErrPermission), so each kind is given
// its status explicitly; a kind not listed is a FAILURE.
var sftpCodes = map[files.Kind]error{
	files.KindNotFound:         sftp.ErrSSHFxNoSuchFile,
	files.KindPermission:       sftp.ErrSSHFxPermissionDenied,
	files.KindNameTaken:        sftp.ErrSSHFxPermissionDenied,
	files.KindPasswordRequired: sftp.ErrSSHFxPermissionDenied,
	files.KindWrongPassword:    sftp.ErrSSHFxPermissionDenied,
	files.KindThrottled:        sftp.ErrSSHFxPermissionDenied,
	files.KindUnsupported:      sftp.ErrSSHFxOpUnsupported,
	files.KindUsage:            sftp.ErrSSHFxBadMessage,
}

// sftpCode is the SFTP status of an error of kind k.
func sftpCode(k files.Kind) error {
	if code, ok := sftpCodes[k]; ok {
		return code
	}
	return sftp.ErrSSHFxFailure
}

// sftpError turns an error into the status pkg/sftp sends, with the
// rule's own words as its message (never a path or a password).
func sftpError(err error) error {
	if err == nil {
		return nil
	}
	return &sftpStatus{msg: flaglessReason(err), code: sftpCode(files.KindOf(err))}
}

// flaglessReason is the reason told to a user of SFTP or scp, which have no
// --password: a missing download password says where it goes.
func flaglessReason(err error) string {
	reason := files.Reason(err)
	if files.KindOf(err) == files.KindPasswordRequired {
		reason += " (set it with -o SetEnv=SSHELF_FILE_PASSWORD=...)"
	}
	return reason
}

// sftpStatus carries a status code for pkg/sftp (found with errors.As) and
// the message sent with it.
type sftpStatus struct {
	msg  string
	code error
}

func (e *sftpStatus) Error() string { return e.msg }
func (e *sftpStatus) Unwrap() error { return e.code }
