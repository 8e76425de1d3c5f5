package sshd_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"testing"

	"github.com/sshelf/sshelf/app/apptest"
	"github.com/sshelf/sshelf/internal/sftpwire"
	"github.com/sshelf/sshelf/internal/testkit"
)

// Issue 14: OpenSSH's clients size their requests by the server's
// limits@openssh.com answer. The server announces it, answers it (pkg/sftp
// does not know it), and serves requests of the sizes it announces.
func TestSFTPLimitsExtension(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	ch, _ := rawSubsystem(t, srv, false)
	s := &rawSFTP{t: t, ch: ch, r: bufio.NewReader(ch)}
	s.send(sftpwire.Init())
	typ, version := s.recv()
	if typ != sftpwire.FxpVersion {
		t.Fatalf("answer to INIT: type %d", typ)
	}
	exts := extensions(t, version)
	if exts["limits@openssh.com"] != "1" || exts["posix-rename@openssh.com"] != "1" {
		t.Fatalf("VERSION announces %v; want limits@openssh.com 1 beside pkg/sftp's own", exts)
	}

	s.send(sftpwire.Packet(sftpwire.FxpExtended, 7, "limits@openssh.com"))
	typ, b := s.recv()
	if typ != sftpwire.FxpExtendedReply || len(b) != 4+4*8 || binary.BigEndian.Uint32(b) != 7 {
		t.Fatalf("answer to limits: type %d, %x", typ, b)
	}
	var limits [4]uint64
	for i := range limits {
		limits[i] = binary.BigEndian.Uint64(b[4+8*i:])
	}
	const maxData = 256<<10 - 1024
	if want := [4]uint64{256 << 10, maxData, maxData, 0}; limits != want {
		t.Fatalf("limits (packet, read, write, handles) %v, want %v", limits, want)
	}

	// An extension it does not know still goes to pkg/sftp, which refuses it.
	s.send(sftpwire.Packet(sftpwire.FxpExtended, 8, "nonesuch@example.com", "x"))
	if code, msg, _ := s.answer(8); code != fxOpUnsupported {
		t.Errorf("unknown extension: status %d %s, want %d", code, msg, fxOpUnsupported)
	}

	// One write and one read of the announced size, whole.
	content := make([]byte, maxData)
	rand.Read(content)
	h := s.open(9, "big")
	s.send(sftpwire.Packet(sftpwire.FxpWrite, 10, h, uint64(0), string(content)))
	if code, msg, _ := s.answer(10); code != fxOK {
		t.Fatalf("write of %d bytes: status %d %s", len(content), code, msg)
	}
	s.send(sftpwire.Packet(sftpwire.FxpClose, 11, h))
	if code, msg, _ := s.answer(11); code != fxOK {
		t.Fatalf("close: status %d %s", code, msg)
	}
	if f := info(t, srv, "big"); f.SHA256 != testkit.SHA256Hex(content) {
		t.Fatalf("stored as %+v", f)
	}
	s.send(sftpwire.Packet(sftpwire.FxpOpen, 12, "big", sftpwire.FxfRead, 0))
	_, _, body := s.answer(12)
	if body[0] != sftpwire.FxpHandle {
		t.Fatalf("open for reading: %x", body)
	}
	rh := string(body[5 : 5+binary.BigEndian.Uint32(body[1:])])
	s.send(sftpwire.Packet(sftpwire.FxpRead, 13, rh, uint64(0), uint32(maxData)))
	_, _, body = s.answer(13)
	if body[0] != sftpwire.FxpData || !bytes.Equal(body[5:], content) {
		t.Fatalf("read of %d bytes: type %d, %d bytes", maxData, body[0], len(body)-5)
	}
}

// extensions parses the name and data pairs after a VERSION's version.
func extensions(t *testing.T, b []byte) map[string]string {
	t.Helper()
	exts := map[string]string{}
	b = b[4:]
	next := func() string {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
			t.Fatalf("VERSION extensions cut short: %x", b)
		}
		n := binary.BigEndian.Uint32(b)
		s := string(b[4 : 4+n])
		b = b[4+n:]
		return s
	}
	for len(b) > 0 {
		name := next()
		exts[name] = next()
	}
	return exts
}
