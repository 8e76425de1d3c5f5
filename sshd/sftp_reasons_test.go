package sshd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/app"
	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/sftpwire"
)

// TestSFTPStatusReasons: an SFTP status carries the reason a user can act
// on, the same words as the exec error line, and a missing download
// password says where it goes (SFTP has no --password). Clients such as
// paramiko and WinSCP show the message; OpenSSH's sftp and pkg/sftp's
// client show only the code for "permission denied", so the messages are
// read from the raw packets.
func TestSFTPStatusReasons(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, func(o *app.Options) { o.Quota = 10 })
	carol := sftpClient(t, srv, "carol", "pw-c", "SSHELF_FILE_PASSWORD", "s3cret")
	sftpPut(t, carol, "locked", []byte("1234"))

	alice := openRawSFTP(t, srv)
	alice.send(sftpwire.Packet(sftpwire.FxpOpen, 1, "locked", sftpwire.FxfRead, 0))
	code, msg, _ := alice.answer(1)
	wantReason(t, "get of a protected file without its password", code, msg, fxPermission,
		"download password required", "SSHELF_FILE_PASSWORD")
	alice.send(sftpwire.Packet(sftpwire.FxpOpen, 2, "locked", sftpwire.FxfWrite|sftpwire.FxfCreat|sftpwire.FxfTrunc, 0))
	code, msg, _ = alice.answer(2)
	wantReason(t, "put onto another's name", code, msg, fxPermission, "name taken by another user")

	// Over the quota: a FAILURE, whose message pkg/sftp's client keeps.
	bob := sftpClient(t, srv, "bob", "pw-b")
	f, err := bob.Create("big")
	if err == nil {
		_, err = f.Write([]byte(strings.Repeat("x", 11)))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	var se *sftp.StatusError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "quota exceeded") {
		t.Errorf("upload over the quota: %v, want a status saying quota exceeded", err)
	}
}

func wantReason(t *testing.T, what string, code int, msg string, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: status %d %q, want %d", what, code, msg, wantCode)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: status message %q does not say %q", what, msg, w)
		}
	}
}
