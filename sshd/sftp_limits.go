package sshd

import (
	"encoding/binary"
	"io"
)

// OpenSSH's sftp and scp size their requests by the server's
// limits@openssh.com answer, and without one fall back to 32 KiB. OpenSSH's
// own sftp-server answers with about 255 KiB, so its clients write to it in
// requests eight times as large: a GiB costs 4,096 requests and answers
// instead of 32,768. pkg/sftp (v1.13.12) neither announces nor answers the
// extension, so the guard does both: it adds the extension to pkg/sftp's
// VERSION and answers the request itself, which never reaches pkg/sftp.
const (
	limitsExtension = "limits@openssh.com"

	// sftpMaxPacket is pkg/sftp's largest request (maxMsgLength): it ends
	// the session on a longer one.
	sftpMaxPacket = 256 << 10
	// sftpMaxWrite leaves room in a packet for a WRITE's other fields, as
	// OpenSSH's server does.
	sftpMaxWrite = sftpMaxPacket - 1024
	// sftpMaxRead is what pkg/sftp returns at most per READ (its
	// maxTxPacket, set to it).
	sftpMaxRead = sftpMaxWrite
)

// SFTP packet types the guard reads or writes itself.
const (
	sftpVersion       = 2
	sftpExtended      = 200
	sftpExtendedReply = 201
)

// maxPeekedRequest bounds the EXTENDED requests the guard reads whole to
// see their name; longer ones go to pkg/sftp unread.
const maxPeekedRequest = 1024

// withLimitsExtension returns pkg/sftp's VERSION frame with the limits
// extension added to its list; any other frame unchanged.
func withLimitsExtension(frame []byte) []byte {
	if len(frame) < 9 || frame[4] != sftpVersion {
		return frame
	}
	out := make([]byte, 0, len(frame)+8+len(limitsExtension)+1)
	out = append(out, frame...)
	out = appendString(out, limitsExtension)
	out = appendString(out, "1")
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// limitsRequestID reports whether frame, a whole EXTENDED request, asks
// for limits@openssh.com, and its request id.
func limitsRequestID(frame []byte) (uint32, bool) {
	if len(frame) < 13 || frame[4] != sftpExtended {
		return 0, false
	}
	id := binary.BigEndian.Uint32(frame[5:9])
	n := binary.BigEndian.Uint32(frame[9:13])
	name := frame[13:]
	if uint64(n) > uint64(len(name)) {
		return 0, false
	}
	return id, string(name[:n]) == limitsExtension
}

// limitsReply is the EXTENDED_REPLY to a limits request: packet, read and
// write lengths, and no limit of open handles (0), as in OpenSSH's
// PROTOCOL file.
func limitsReply(id uint32) []byte {
	b := make([]byte, 0, 4+1+4+4*8)
	b = binary.BigEndian.AppendUint32(b, 0) // length, set below
	b = append(b, sftpExtendedReply)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint64(b, sftpMaxPacket)
	b = binary.BigEndian.AppendUint64(b, sftpMaxRead)
	b = binary.BigEndian.AppendUint64(b, sftpMaxWrite)
	b = binary.BigEndian.AppendUint64(b, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// peek reads the start of the client's next frame into g.pending, for
// Read to pass on. A short EXTENDED request is read whole, and answered
// here if it asks for the limits; then the next frame is read. The start
// of a frame is read into g.head, so no frame costs an allocation but an
// EXTENDED one.
func (g *sftpGuard) peek() error {
	for {
		n, err := io.ReadFull(g.rwc, g.head[:4])
		g.pending = g.head[:n]
		if err != nil {
			return err
		}
		length := binary.BigEndian.Uint32(g.head[:4])
		if length == 0 || length > maxPeekedRequest {
			return nil
		}
		n, err = io.ReadFull(g.rwc, g.head[4:5])
		g.pending = g.head[:4+n]
		if err != nil {
			return err
		}
		if g.head[4] != sftpExtended {
			return nil
		}
		frame := make([]byte, 4+length)
		copy(frame, g.head[:])
		n, err = io.ReadFull(g.rwc, frame[5:])
		g.pending = frame[:5+n]
		if err != nil {
			return err
		}
		id, ok := limitsRequestID(frame)
		if !ok || !g.versionSent() {
			return nil // before the VERSION, pkg/sftp's refusal will do
		}
		g.pending = nil
		if err := g.reply(limitsReply(id)); err != nil {
			return err
		}
	}
}

func (g *sftpGuard) versionSent() bool {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.out.frames > 0
}
