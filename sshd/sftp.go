package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gliderlabs/ssh"
	"github.com/pkg/sftp"

	"github.com/sshelf/sshelf/internal/ops"
)

// handleSFTP serves the SFTP subsystem with pkg/sftp's request server. The
// handlers (sftp_*.go) only translate requests into files.Service calls;
// every rule is checked there.
func (s *Server) handleSFTP(sess ssh.Session) {
	// A terminal would rewrite newlines in the binary SFTP stream.
	if _, _, isPty := sess.Pty(); isPty {
		fmt.Fprintln(sess.Stderr(), "sshelf: sftp: no terminal allowed on an SFTP session")
		sess.Exit(1)
		return
	}
	rs := s.SFTPServer(sess.Context(), sess.User(), sess.RemoteAddr().String(), sessionSettings(sess), sess)
	err := rs.Serve()
	// Uploads still open were told of the error by pkg/sftp (TransferError)
	// and aborted when it closed them. The exit status goes out before the
	// channel closes, or ssh reports -1 and scp fails.
	code := 0
	if err != nil && !errors.Is(err, io.EOF) {
		s.log.Debug("sftp session ended", "user", sess.User(), "addr", sess.RemoteAddr().String(), "err", err)
		code = 1
	}
	sess.Exit(code)
	rs.Close()
}

// SFTPServer is the request server of one SFTP session of user, logged in
// from addr, over rwc: the SSH subsystem's without SSH, which the fuzz
// target (sshd/sshdfuzz) serves too. The caller serves and closes it.
func (s *Server) SFTPServer(ctx context.Context, user, addr string, settings ops.Settings, rwc io.ReadWriteCloser) *sftp.RequestServer {
	return newSFTPServer(s.sftpSessionOf(ctx, user, addr, settings), rwc)
}

// newSFTPServer is the request server of one SFTP session over rwc,
// behind the guard that keeps pkg/sftp from a crash (sftp_guard.go).
func newSFTPServer(fs *sftpSession, rwc io.ReadWriteCloser) *sftp.RequestServer {
	// WithRSAllocator: pkg/sftp reuses a 256 KiB page per request instead
	// of allocating (and zeroing, and collecting) one per packet, about 15%
	// of the server's CPU in a 1 GiB upload. A session keeps the pages it
	// has used at once until it ends, which the guard's cap on requests in
	// flight bounds: about 5 pages, 1.3 MiB (sftpInFlight). The handlers
	// never keep a request's bytes past their return, so reusing them is
	// safe.
	return sftp.NewRequestServer(newSFTPGuard(rwc), sftp.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs},
		sftp.WithRSMaxTxPacket(sftpMaxRead), sftp.WithRSAllocator())
}

// sftpSession is one SFTP session: who, the session's environment, and the
// uploads it has open (SFTP names them by path in fsetstat and fstat).
type sftpSession struct {
	srv      *Server
	ctx      context.Context
	user     string
	addr     string
	settings ops.Settings // SSHELF_FILE_PASSWORD, SSHELF_HIDDEN

	mu      sync.Mutex
	uploads map[string]*sftpUpload // open uploads by name
	owners  map[uint32]string      // uids shown in listings, for ls -l
}

func (s *Server) sftpSessionOf(ctx context.Context, user, addr string, settings ops.Settings) *sftpSession {
	return &sftpSession{
		srv:      s,
		ctx:      ctx,
		user:     user,
		addr:     addr,
		settings: settings,
		uploads:  make(map[string]*sftpUpload),
		owners:   make(map[uint32]string),
	}
}

// audit logs one SFTP operation like the exec commands do.
func (fs *sftpSession) audit(op, name string, res result, err error, start time.Time) {
	fs.srv.report(fs.ctx, fs.user, fs.addr, "sftp", op, name, res, err, start)
}

// openUpload returns the upload this session has open under name, if any.
func (fs *sftpSession) openUpload(name string) *sftpUpload {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.uploads[name]
}

func (fs *sftpSession) addUpload(u *sftpUpload) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.uploads[u.up.Name()] = u
}

func (fs *sftpSession) dropUpload(u *sftpUpload) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.uploads[u.up.Name()] == u {
		delete(fs.uploads, u.up.Name())
	}
}
