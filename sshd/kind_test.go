package sshd

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
	"github.com/sshelf/sshelf/sshd/framing"
)

// TestEveryKindHasItsAnswers: each kind has an exit status, an SFTP
// status and an end-line token, all derived from the one table each.
func TestEveryKindHasItsAnswers(t *testing.T) {
	t.Parallel()
	token := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	for _, k := range files.Kinds {
		wantExit := 1
		if k == files.KindUsage {
			wantExit = 2
		}
		if got := ops.ExitStatus(k); got != wantExit {
			t.Errorf("%q: exit status %d, want %d", k, got, wantExit)
		}
		if sftpCode(k) == nil {
			t.Errorf("%q: no SFTP status", k)
		}
		if !token.MatchString(string(k)) {
			t.Errorf("%q: not a token", k)
		}
		var b bytes.Buffer
		framing.WriteAnswer(&b, k, "sshelf: get: x: reason")
		if want := "E " + string(rune('0'+wantExit)) + " [" + string(k) + "] sshelf: get: x: reason\n"; b.String() != want {
			t.Errorf("end line %q, want %q", b.String(), want)
		}
	}
	if ops.ExitStatus(files.KindNone) != 0 {
		t.Errorf("no error: exit status %d", ops.ExitStatus(files.KindNone))
	}
	var b bytes.Buffer
	framing.WriteAnswer(&b, files.KindNone, "ok")
	if b.String() != "E 0 ok\n" {
		t.Errorf("success end line %q", b.String())
	}
}

// TestTransportRefusalsKeepTheirStatus: the SFTP statuses of before the
// kinds, now derived from them.
func TestTransportRefusalsKeepTheirStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		code error
	}{
		{files.ErrNotFound, sftp.ErrSSHFxNoSuchFile},
		{files.ErrPermission, sftp.ErrSSHFxPermissionDenied},
		{files.ErrNameTaken, sftp.ErrSSHFxPermissionDenied},
		{files.ErrPasswordRequired, sftp.ErrSSHFxPermissionDenied},
		{files.ErrWrongPassword, sftp.ErrSSHFxPermissionDenied},
		{files.ErrThrottled, sftp.ErrSSHFxPermissionDenied},
		{errNoDirectories, sftp.ErrSSHFxPermissionDenied},
		{errIsRoot, sftp.ErrSSHFxPermissionDenied},
		{errUnsupported, sftp.ErrSSHFxOpUnsupported},
		{files.ErrTruncateGrow, sftp.ErrSSHFxOpUnsupported},
		{errBadRequest, sftp.ErrSSHFxBadMessage},
		{files.ErrQuota, sftp.ErrSSHFxFailure},
		{files.ErrBusy, sftp.ErrSSHFxFailure},
		{files.ErrExists, sftp.ErrSSHFxFailure},
	}
	for _, tt := range tests {
		if got := sftpCode(files.KindOf(tt.err)); got != tt.code {
			t.Errorf("%v: SFTP status %v, want %v", tt.err, got, tt.code)
		}
	}
}
