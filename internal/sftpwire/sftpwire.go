// Package sftpwire speaks SFTP version 3 (draft-ietf-secsh-filexfer-02) by
// hand, for tests and fuzzing: what no client library sends on purpose,
// malformed packets.
package sftpwire

import (
	"encoding/binary"
	"fmt"
)

// Packet types.
const (
	FxpInit          = 1
	FxpVersion       = 2
	FxpOpen          = 3
	FxpClose         = 4
	FxpRead          = 5
	FxpWrite         = 6
	FxpLstat         = 7
	FxpFstat         = 8
	FxpSetstat       = 9
	FxpFsetstat      = 10
	FxpOpendir       = 11
	FxpReaddir       = 12
	FxpRemove        = 13
	FxpMkdir         = 14
	FxpRmdir         = 15
	FxpRealpath      = 16
	FxpStat          = 17
	FxpRename        = 18
	FxpReadlink      = 19
	FxpSymlink       = 20
	FxpStatus        = 101
	FxpHandle        = 102
	FxpData          = 103
	FxpName          = 104
	FxpAttrs         = 105
	FxpExtended      = 200
	FxpExtendedReply = 201
)

// Attribute flags and open flags.
const (
	AttrSize  = 0x1
	AttrOwner = 0x2
	AttrPerm  = 0x4
	AttrTimes = 0x8
	AttrExt   = 0x80000000

	FxfRead   = 0x1
	FxfWrite  = 0x2
	FxfAppend = 0x4
	FxfCreat  = 0x8
	FxfTrunc  = 0x10
	FxfExcl   = 0x20
)

// Packet marshals a packet without its length: the type, then each
// field, a uint32, a uint64, a string (length-prefixed) or a []byte (sent
// as it is, for attributes cut short).
func Packet(typ byte, fields ...any) []byte {
	p := []byte{typ}
	for _, f := range fields {
		switch v := f.(type) {
		case int:
			p = binary.BigEndian.AppendUint32(p, uint32(v))
		case uint32:
			p = binary.BigEndian.AppendUint32(p, v)
		case uint64:
			p = binary.BigEndian.AppendUint64(p, v)
		case string:
			p = binary.BigEndian.AppendUint32(p, uint32(len(v)))
			p = append(p, v...)
		case []byte:
			p = append(p, v...)
		default:
			panic(fmt.Sprintf("sftpwire.Packet: field of type %T", f))
		}
	}
	return p
}

// Frame prefixes a packet with its length, as it goes on the wire.
func Frame(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// Init is the client's first packet.
func Init() []byte { return Packet(FxpInit, 3) }

// The packets of issue 10, point 1: attribute flags that promise fields
// the packet does not carry; pkg/sftp parses them to a nil attribute set.

// MalformedSetstat is a SETSTAT of name whose flags promise a size that
// does not follow. The name need not exist.
func MalformedSetstat(id uint32, name string) []byte {
	return Packet(FxpSetstat, id, name, AttrSize)
}

// MalformedFsetstat is the same on an open handle, a size and a mode.
func MalformedFsetstat(id uint32, handle string) []byte {
	return Packet(FxpFsetstat, id, handle, AttrSize|AttrPerm)
}
