// Package nfnl holds the nfnetlink framing shared by every netfilter
// subsystem: the 4-byte nfgenmsg header that follows the netlink header, the
// message-type arithmetic (subsystem in the high byte, command in the low
// byte) and the BATCH_BEGIN/BATCH_END messages that make an nf_tables
// transaction.
package nfnl

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// HeaderLen is the size of struct nfgenmsg.
const HeaderLen = 4

// Header is struct nfgenmsg: the address family the message is about, the
// protocol version (always NFNETLINK_V0) and a resource id, which is the
// subsystem id in batch framing, the generation id in some nf_tables
// replies, and the set index for ipset. The resource id is big-endian on the
// wire.
type Header struct {
	Family     uint8
	Version    uint8
	ResourceID uint16
}

// Marshal appends the header to b.
func (h Header) Marshal(b []byte) []byte {
	return append(b, h.Family, h.Version, byte(h.ResourceID>>8), byte(h.ResourceID))
}

// Unmarshal reads a header from the start of b and returns the rest.
func Unmarshal(b []byte) (Header, []byte, error) {
	if len(b) < HeaderLen {
		return Header{}, nil, fmt.Errorf("nfnetlink message of %d bytes is shorter than its %d-byte header", len(b), HeaderLen)
	}
	return Header{Family: b[0], Version: b[1], ResourceID: binary.BigEndian.Uint16(b[2:4])}, b[HeaderLen:], nil
}

// Type builds a netlink message type from a subsystem id and a command.
func Type(subsys, cmd uint8) netlink.HeaderType {
	return netlink.HeaderType(uint16(subsys)<<8 | uint16(cmd))
}

// Split returns the subsystem id and command of a netlink message type.
func Split(t netlink.HeaderType) (subsys, cmd uint8) {
	return uint8(uint16(t) >> 8), uint8(t)
}

// NewMessage builds a request for subsystem/command with the nfgenmsg
// header followed by attrs (already encoded attributes).
func NewMessage(subsys, cmd uint8, flags netlink.HeaderFlags, h Header, attrs []byte) netlink.Message {
	data := make([]byte, 0, HeaderLen+len(attrs))
	data = h.Marshal(data)
	data = append(data, attrs...)
	return netlink.Message{
		Header: netlink.Header{Type: Type(subsys, cmd), Flags: netlink.Request | flags},
		Data:   data,
	}
}

// BatchBegin returns the message that opens a transaction for subsys. When
// genID is non-zero it carries NFNL_BATCH_GENID, and the kernel rejects the
// whole batch with ERESTART if the ruleset generation has moved on since
// genID was read.
func BatchBegin(subsys uint8, genID uint32) netlink.Message {
	var attrs []byte
	if genID != 0 {
		ae := netlink.NewAttributeEncoder()
		ae.ByteOrder = binary.BigEndian
		ae.Uint32(unix.NFNL_BATCH_GENID, genID)
		attrs, _ = ae.Encode()
	}
	m := NewMessage(0, unix.NFNL_MSG_BATCH_BEGIN, 0, Header{Family: unix.AF_UNSPEC, Version: unix.NFNETLINK_V0, ResourceID: uint16(subsys)}, attrs)
	// BATCH_BEGIN/END are control messages (type < NLMSG_MIN_TYPE rules do
	// not apply): their type is the bare command, subsystem 0.
	m.Header.Type = netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN)
	return m
}

// BatchEnd returns the message that closes a transaction for subsys.
func BatchEnd(subsys uint8) netlink.Message {
	m := NewMessage(0, unix.NFNL_MSG_BATCH_END, 0, Header{Family: unix.AF_UNSPEC, Version: unix.NFNETLINK_V0, ResourceID: uint16(subsys)}, nil)
	m.Header.Type = netlink.HeaderType(unix.NFNL_MSG_BATCH_END)
	return m
}
