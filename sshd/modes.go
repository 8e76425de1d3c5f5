package sshd

import "os"

// Unix modes stand for visibility in SFTP and scp: others may read a
// public file, not a hidden one. Listings show these modes, and chmod by
// the owner sets visibility by the other-read bit.
const (
	publicMode  = 0o644
	hiddenMode  = 0o600
	rootMode    = os.ModeDir | 0o755
	otherReadOK = 0o004
)

// modeOf is the mode shown for a file of the given visibility.
func modeOf(hidden bool) os.FileMode {
	if hidden {
		return hiddenMode
	}
	return publicMode
}

// hiddenByMode is the visibility a chmod to mode asks for.
func hiddenByMode(mode uint32) bool { return mode&otherReadOK == 0 }
