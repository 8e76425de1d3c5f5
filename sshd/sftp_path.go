package sshd

import (
	"path"
	"strings"

	"github.com/sshelf/sshelf/files"
)

// sftpTarget is what an SFTP path names: the root directory or one file.
type sftpTarget struct {
	root bool
	name string
}

// parseSFTPPath maps an SFTP path onto the flat namespace: "/", "." and ""
// are the root; "/NAME", "NAME" and "./NAME" name a file. A deeper path
// names nothing: there are no directories.
func parseSFTPPath(p string) (sftpTarget, error) {
	clean := path.Clean("/" + p)
	if clean == "/" {
		return sftpTarget{root: true}, nil
	}
	name := clean[1:]
	if strings.Contains(name, "/") {
		return sftpTarget{}, files.ErrNotFound
	}
	return sftpTarget{name: name}, nil
}

// parseSFTPName is parseSFTPPath for operations that need a file.
func parseSFTPName(p string) (string, error) {
	t, err := parseSFTPPath(p)
	if err != nil {
		return "", err
	}
	if t.root {
		return "", errIsRoot
	}
	return t.name, nil
}
