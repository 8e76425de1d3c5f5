package ops

import (
	"strings"

	"github.com/sshelf/sshelf/files"
)

// Settings are a session's environment as the rules read it: every
// meaning of SSHELF_FILE_PASSWORD and SSHELF_HIDDEN is decided here, for
// every transport.
type Settings struct {
	FilePassword string // SSHELF_FILE_PASSWORD
	Hidden       bool   // SSHELF_HIDDEN: 1, true or yes
}

// The session environment variables the settings are read from: the only
// ones a session may set.
const (
	EnvFilePassword = "SSHELF_FILE_PASSWORD"
	EnvHidden       = "SSHELF_HIDDEN"
)

// IsSetting reports whether a session may set the environment variable key.
func IsSetting(key string) bool { return key == EnvFilePassword || key == EnvHidden }

// SettingsFrom reads the settings from a session's environment.
func SettingsFrom(getenv func(key string) (string, bool)) Settings {
	pw, _ := getenv(EnvFilePassword)
	hidden, _ := getenv(EnvHidden)
	return Settings{FilePassword: pw, Hidden: envTrue(hidden)}
}

// envTrue reads a yes/no environment variable: 1, true or yes is true.
func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// DownloadPassword is the password that unlocks a protected file for get,
// sum and unprotect: --password wins over SSHELF_FILE_PASSWORD. c is nil
// for a transport without flags (SFTP, scp).
func (s Settings) DownloadPassword(c *Command) string {
	if c != nil && c.HasPass {
		return c.Password
	}
	return s.FilePassword
}

// InfoPassword is the password that shows another's protected hash in
// info: only --password. The session's SSHELF_FILE_PASSWORD is for
// downloads and sum, and info must not spend a counted try unasked.
func (s Settings) InfoPassword(c Command) string { return c.Password }

// Upload returns the options of an upload of name, of size bytes (-1:
// unknown). With flags (exec, subsystem): only --password protects it, and
// an empty one is refused; SSHELF_FILE_PASSWORD is the current password of
// a protected file being replaced; --hidden or SSHELF_HIDDEN hides it (the
// contract: SSHELF_HIDDEN means the same on every way in). Without flags
// (c nil: SFTP, scp): SSHELF_FILE_PASSWORD is both, and SSHELF_HIDDEN hides it.
func (s Settings) Upload(name string, c *Command, size int64) (files.PutOptions, error) {
	if c == nil {
		return files.PutOptions{Name: name, Hidden: s.Hidden, Password: s.FilePassword, Size: size}, nil
	}
	if c.HasPass && c.Password == "" {
		return files.PutOptions{}, files.ErrEmptyPassword
	}
	return files.PutOptions{
		Name: name, Hidden: c.Hidden || s.Hidden, Password: c.Password, SHA256: c.SHA256, Size: size,
		CurrentPassword: s.FilePassword,
	}, nil
}
