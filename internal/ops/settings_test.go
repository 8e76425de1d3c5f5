package ops

import (
	"errors"
	"testing"

	"github.com/sshelf/sshelf/files"
)

func env(kv ...string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == key {
				return kv[i+1], true
			}
		}
		return "", false
	}
}

func TestSettingsFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  []string
		want Settings
	}{
		{nil, Settings{}},
		{[]string{EnvFilePassword, "pw"}, Settings{FilePassword: "pw"}},
		{[]string{EnvHidden, "1"}, Settings{Hidden: true}},
		{[]string{EnvHidden, " Yes "}, Settings{Hidden: true}},
		{[]string{EnvHidden, "TRUE"}, Settings{Hidden: true}},
		{[]string{EnvHidden, "0"}, Settings{}},
		{[]string{EnvHidden, "no"}, Settings{}},
		{[]string{"OTHER", "1"}, Settings{}},
	}
	for _, tt := range tests {
		if got := SettingsFrom(env(tt.env...)); got != tt.want {
			t.Errorf("SettingsFrom(%q) = %+v, want %+v", tt.env, got, tt.want)
		}
	}
	if !IsSetting(EnvFilePassword) || !IsSetting(EnvHidden) || IsSetting("LANG") {
		t.Error("IsSetting: only the two sshelf variables")
	}
}

// Every meaning of a session setting, for each kind of transport: with
// flags (exec, subsystem) and without (c nil: SFTP, scp).
func TestSettingsMeanings(t *testing.T) {
	t.Parallel()
	s := Settings{FilePassword: "envpw", Hidden: true}
	flag := &Command{Name: "get", Password: "flagpw", HasPass: true}
	noFlag := &Command{Name: "get"}
	if got := s.DownloadPassword(flag); got != "flagpw" {
		t.Errorf("--password must win: %q", got)
	}
	if got := s.DownloadPassword(noFlag); got != "envpw" {
		t.Errorf("without --password, SSHELF_FILE_PASSWORD: %q", got)
	}
	if got := s.DownloadPassword(nil); got != "envpw" {
		t.Errorf("SFTP/scp: SSHELF_FILE_PASSWORD: %q", got)
	}
	if got := s.InfoPassword(*noFlag); got != "" {
		t.Errorf("info spends no try unasked: %q", got)
	}

	tests := []struct {
		what string
		c    *Command
		want files.PutOptions
		err  error
	}{
		{"exec put: env never protects, it is the current password; SSHELF_HIDDEN hides", &Command{Name: "put"},
			files.PutOptions{Name: "f", Size: 5, CurrentPassword: "envpw", Hidden: true}, nil},
		{"exec put --password protects", &Command{Name: "put", Password: "new", HasPass: true, Hidden: true, SHA256: "h"},
			files.PutOptions{Name: "f", Size: 5, Password: "new", Hidden: true, SHA256: "h", CurrentPassword: "envpw"}, nil},
		{"exec put --password '' is refused", &Command{Name: "put", HasPass: true}, files.PutOptions{}, files.ErrEmptyPassword},
		{"SFTP/scp put: env protects and hides", nil,
			files.PutOptions{Name: "f", Size: 5, Password: "envpw", Hidden: true}, nil},
	}
	for _, tt := range tests {
		got, err := s.Upload("f", tt.c, 5)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: %+v, %v; want %+v, %v", tt.what, got, err, tt.want, tt.err)
		}
	}
}
