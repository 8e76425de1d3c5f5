package sshd

import (
	"hash/fnv"
	"io"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
)

// listPage is how many files one catalog query fetches for a listing.
const listPage = 1000

// Filelist answers opendir/readdir of the root and stat of a path.
func (fs *sftpSession) Filelist(r *sftp.Request) (la sftp.ListerAt, err error) {
	defer fs.catch("list", &err)
	switch r.Method {
	case "List":
		t, err := parseSFTPPath(r.Filepath)
		if err != nil {
			return nil, sftpError(err)
		}
		if !t.root {
			// There are no directories but the root.
			return nil, sftpError(files.ErrNotFound)
		}
		return &rootLister{fs: fs}, nil
	case "Stat":
		fi, err := fs.stat(r.Filepath)
		if err != nil {
			return nil, sftpError(err)
		}
		return oneEntry{fi}, nil
	}
	return nil, sftpError(errUnsupported)
}

// Lstat is Stat: there are no links.
func (fs *sftpSession) Lstat(r *sftp.Request) (la sftp.ListerAt, err error) {
	defer fs.catch("lstat", &err)
	r.Method = "Stat"
	return fs.Filelist(r)
}

// RealPath resolves a path against the root: "." is "/", "NAME" is "/NAME".
func (fs *sftpSession) RealPath(p string) (real string, err error) {
	defer fs.catch("realpath", &err)
	return path.Clean("/" + p), nil
}

// Readlink fails: there are no links.
func (fs *sftpSession) Readlink(string) (string, error) {
	return "", sftpError(errUnsupported)
}

// LookupUserName shows a file's owner in ls -l.
func (fs *sftpSession) LookupUserName(uid string) (name string) {
	name = uid
	defer fs.catch("lookup user", new(error))
	n, err := strconv.ParseUint(uid, 10, 32)
	if err != nil {
		return uid
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if owner, ok := fs.owners[uint32(n)]; ok {
		return owner
	}
	return uid
}

// LookupGroupName shows one group for everything.
func (fs *sftpSession) LookupGroupName(string) string { return "sshelf" }

// stat describes the root, an upload this session has open under the name
// (clients stat the open handle), or the catalog's file, whatever its
// visibility (rule 2).
func (fs *sftpSession) stat(p string) (*fileInfo, error) {
	t, err := parseSFTPPath(p)
	if err != nil {
		return nil, err
	}
	if t.root {
		return &fileInfo{name: "/", mode: rootMode, modTime: time.Unix(0, 0)}, nil
	}
	if u := fs.openUpload(t.name); u != nil {
		return fs.info(files.File{Name: t.name, Size: u.up.Size(), Owner: fs.user, Hidden: fs.settings.Hidden, Uploaded: u.start}), nil
	}
	f, err := fs.srv.cfg.Files.Info(fs.ctx, fs.user, t.name)
	if err != nil {
		return nil, err
	}
	return fs.info(f), nil
}

// info describes a file, remembering its owner's uid for ls -l.
func (fs *sftpSession) info(f files.File) *fileInfo {
	h := fnv.New32a()
	io.WriteString(h, f.Owner)
	uid := 1000 + h.Sum32()%(1<<30)
	fs.mu.Lock()
	fs.owners[uid] = f.Owner
	fs.mu.Unlock()
	return &fileInfo{name: f.Name, size: f.Size, mode: modeOf(f.Hidden), modTime: f.Uploaded, uid: uid}
}

// rootLister pages through the public files (rule 1) as the client reads
// the directory.
type rootLister struct {
	fs    *sftpSession
	after string // last name returned
	next  int64  // offset the next ListAt is expected at
}

func (l *rootLister) ListAt(out []os.FileInfo, off int64) (n int, err error) {
	defer l.fs.catch("readdir", &err)
	if off != l.next {
		// pkg/sftp reads in order; anything else restarts the scan.
		l.after, l.next = "", 0
		for l.next < off {
			page, err := l.fs.srv.cfg.Files.List(l.fs.ctx, l.fs.user, l.after, int(min(off-l.next, listPage)))
			if err != nil {
				return 0, sftpError(err)
			}
			if len(page) == 0 {
				return 0, io.EOF
			}
			l.after, l.next = page[len(page)-1].Name, l.next+int64(len(page))
		}
	}
	page, err := l.fs.srv.cfg.Files.List(l.fs.ctx, l.fs.user, l.after, len(out))
	if err != nil {
		return 0, sftpError(err)
	}
	for i, f := range page {
		out[i] = l.fs.info(f)
	}
	if len(page) > 0 {
		l.after = page[len(page)-1].Name
	}
	l.next += int64(len(page))
	if len(page) < len(out) {
		return len(page), io.EOF
	}
	return len(page), nil
}

// oneEntry is the answer to a stat.
type oneEntry struct{ fi os.FileInfo }

func (e oneEntry) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off > 0 || len(out) == 0 {
		return 0, io.EOF
	}
	out[0] = e.fi
	return 1, io.EOF
}

// fileInfo is a file as SFTP shows it.
type fileInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
	uid     uint32
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() os.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }
func (fi *fileInfo) Uid() uint32        { return fi.uid }
func (fi *fileInfo) Gid() uint32        { return 0 }
