package nlconn

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const headerLen = unix.SizeofNlMsghdr // 16

func align(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// appendMessage serialises m onto b without an intermediate copy.
func appendMessage(b []byte, m netlink.Message) []byte {
	l := headerLen + len(m.Data)
	var h [headerLen]byte
	binary.NativeEndian.PutUint32(h[0:4], uint32(l))
	binary.NativeEndian.PutUint16(h[4:6], uint16(m.Header.Type))
	binary.NativeEndian.PutUint16(h[6:8], uint16(m.Header.Flags))
	binary.NativeEndian.PutUint32(h[8:12], m.Header.Sequence)
	binary.NativeEndian.PutUint32(h[12:16], m.Header.PID)
	b = append(b, h[:]...)
	b = append(b, m.Data...)
	for i := l; i < align(l); i++ {
		b = append(b, 0)
	}
	return b
}

// parseMessages splits one datagram into messages. The messages alias b.
// A malformed datagram yields an error, never a panic.
func parseMessages(b []byte, yield func(netlink.Message) bool) error {
	for len(b) > 0 {
		if len(b) < headerLen {
			return fmt.Errorf("netlink: %d trailing bytes are shorter than a message header", len(b))
		}
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < headerLen || l > len(b) {
			return fmt.Errorf("netlink: message length %d out of range (datagram has %d bytes left)", l, len(b))
		}
		m := netlink.Message{
			Header: netlink.Header{
				Length:   uint32(l),
				Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
				Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
				Sequence: binary.NativeEndian.Uint32(b[8:12]),
				PID:      binary.NativeEndian.Uint32(b[12:16]),
			},
			Data: b[headerLen:l:l],
		}
		if !yield(m) {
			return nil
		}
		next := align(l)
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return nil
}

// ackInfo is the decoded payload of an NLMSG_ERROR (or the error code of an
// NLMSG_DONE).
type ackInfo struct {
	errno   unix.Errno // 0 for an ACK
	seq     uint32     // sequence number of the message it answers
	message string     // extended ack text
	offset  int
	request []byte // the echoed request, when the error carries more than its header
}

// parseAck decodes an NLMSG_ERROR payload: a negative errno, the header of
// the offending request, and (with extended acks) TLVs after the request,
// which is truncated to its header when NETLINK_CAP_ACK is on or the
// message was acked with success.
func parseAck(m netlink.Message) (ackInfo, error) {
	d := m.Data
	if len(d) < 4+headerLen {
		return ackInfo{}, fmt.Errorf("netlink: error message of %d bytes is too short", len(d))
	}
	code := int32(binary.NativeEndian.Uint32(d[0:4]))
	a := ackInfo{seq: binary.NativeEndian.Uint32(d[4+8 : 4+12])}
	if code < 0 {
		a.errno = unix.Errno(-code)
	}
	if m.Header.Flags&(netlink.AcknowledgeTLVs|netlink.Capped) == 0 && code < 0 {
		// An uncapped error echoes the whole request. The kernel caps its
		// own errors (NETLINK_CAP_ACK is on), so a full echo comes from a
		// subsystem that builds its error itself: ipset does, to return
		// the failing entry's line number inside the echoed request.
		if origLen := int(binary.NativeEndian.Uint32(d[4:8])); origLen > headerLen && origLen <= len(d)-4 {
			a.request = d[4 : 4+origLen]
		}
	}
	if m.Header.Flags&netlink.AcknowledgeTLVs == 0 {
		return a, nil
	}
	rest := d[4+headerLen:]
	if m.Header.Flags&netlink.Capped == 0 {
		origLen := int(binary.NativeEndian.Uint32(d[4:8]))
		skip := align(origLen) - headerLen
		if skip < 0 || skip > len(rest) {
			return a, nil
		}
		rest = rest[skip:]
	}
	ad, err := netlink.NewAttributeDecoder(rest)
	if err != nil {
		return a, nil // the TLVs are advisory; the errno stands
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NLMSGERR_ATTR_MSG:
			a.message = ad.String()
		case unix.NLMSGERR_ATTR_OFFS:
			a.offset = int(ad.Uint32())
		}
	}
	return a, nil
}

// doneErrno returns the error code carried by an NLMSG_DONE, if any.
func doneErrno(m netlink.Message) unix.Errno {
	if len(m.Data) < 4 {
		return 0
	}
	if code := int32(binary.NativeEndian.Uint32(m.Data[0:4])); code < 0 {
		return unix.Errno(-code)
	}
	return 0
}
