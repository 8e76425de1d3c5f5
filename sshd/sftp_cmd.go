package sshd

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// Filecmd serves the requests that change the catalog. Ownership and every
// other rule are checked by files.Service.
func (fs *sftpSession) Filecmd(r *sftp.Request) (err error) {
	defer fs.catch("filecmd", &err)
	start := time.Now()
	var op, name string
	switch r.Method {
	case "Remove":
		op = "rm"
		if name, err = parseSFTPName(r.Filepath); err == nil {
			err = fs.srv.cfg.Files.Remove(fs.ctx, fs.user, name)
		}
	case "Rename", "PosixRename":
		return fs.PosixRename(r)
	case "Setstat":
		op = "setstat"
		if name, err = parseSFTPName(r.Filepath); err == nil {
			var a *sftp.FileStat
			if a, err = sftpAttributes(r); err == nil {
				op, err = fs.setstat(name, r.AttrFlags(), a)
			}
		}
	case "Mkdir", "Rmdir", "Symlink", "Link":
		op, err = strings.ToLower(r.Method), errNoDirectories
	default:
		op, err = strings.ToLower(r.Method), errUnsupported
	}
	fs.audit(op, name, result{}, err, start)
	return sftpError(err)
}

// PosixRename renames a file; like posix-rename@openssh.com, it replaces a
// file of the same owner (files.Service refuses anyone else's).
func (fs *sftpSession) PosixRename(r *sftp.Request) (err error) {
	defer fs.catch("rename", &err)
	start := time.Now()
	from, err := parseSFTPName(r.Filepath)
	to := ""
	if err == nil {
		to, err = parseSFTPName(r.Target)
	}
	if err == nil {
		err = fs.srv.cfg.Files.Rename(fs.ctx, fs.user, from, to)
	}
	fs.audit("rename", from+" -> "+to, result{}, err, start)
	return sftpError(err)
}

// sftpAttributes parses a setstat's attributes. pkg/sftp's parser returns
// nil when the flags promise fields the packet lacks (issue 10: a 13-byte
// packet crashed the server), and a size is an unchecked uint64.
func sftpAttributes(r *sftp.Request) (*sftp.FileStat, error) {
	a := r.Attributes()
	if a == nil {
		return nil, fmt.Errorf("%w: attributes shorter than their flags say", errBadRequest)
	}
	if r.AttrFlags().Size && a.Size > math.MaxInt64 {
		return nil, fmt.Errorf("%w: size out of range", errBadRequest)
	}
	return a, nil
}

// setstat applies attributes. On an upload this session has open (fsetstat
// arrives here by path) a size truncates it, as scp and lftp expect; its
// mode and times are ignored. On a stored file the mode's read bit for
// others sets visibility (600 hides, 644 unhides) and times are accepted
// and ignored (sshelf keeps only the upload time): clients such as rclone
// fail an upload whose times cannot be set. It returns the operation's name
// for the log.
func (fs *sftpSession) setstat(name string, set sftp.FileAttrFlags, a *sftp.FileStat) (string, error) {
	if set.UidGid {
		return "chown", errUnsupported
	}
	if u := fs.openUpload(name); u != nil {
		if set.Size {
			return "truncate", u.truncate(int64(a.Size))
		}
		return "setstat", nil
	}
	svc := fs.srv.cfg.Files
	op := "setstat"
	if set.Permissions {
		hide := hiddenByMode(a.Mode)
		op = "unhide"
		if hide {
			op = "hide"
		}
		if err := svc.SetHidden(fs.ctx, fs.user, name, hide); err != nil {
			return op, err
		}
	}
	if set.Size {
		return "truncate", svc.Resize(fs.ctx, fs.user, name, int64(a.Size))
	}
	if !set.Permissions {
		// Times: a change that changes nothing, the owner's only.
		return op, svc.Touch(fs.ctx, fs.user, name)
	}
	return op, nil
}
