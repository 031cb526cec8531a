// Package attr holds the attribute helpers every nfkit codec shares:
// big-endian encoders and decoders (netfilter attributes are in network byte
// order), address and port conversion, and NUL-terminated strings.
package attr

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
)

// NetByteOrder is NLA_F_NET_BYTEORDER, which ipset requires on integer
// attributes.
const NetByteOrder = netlink.NetByteOrder

// Nested is NLA_F_NESTED.
const Nested = netlink.Nested

// NewEncoder returns an attribute encoder that writes integers big-endian.
func NewEncoder() *netlink.AttributeEncoder {
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	return ae
}

// NewDecoder returns an attribute decoder that reads integers big-endian.
func NewDecoder(b []byte) (*netlink.AttributeDecoder, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, err
	}
	ad.ByteOrder = binary.BigEndian
	return ad, nil
}

// AddrBytes returns the 4 or 16 network-order bytes of a (an IPv4-mapped
// IPv6 address stays 16 bytes: the family decides, not the value).
func AddrBytes(a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// Addr decodes 4 or 16 bytes into an address.
func Addr(b []byte) (netip.Addr, error) {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)), nil
	case 16:
		return netip.AddrFrom16([16]byte(b)), nil
	}
	return netip.Addr{}, fmt.Errorf("address attribute of %d bytes (want 4 or 16)", len(b))
}

// Port encodes a port in network byte order.
func Port(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }

// CString trims a NUL terminator (and anything after it) from a kernel
// string attribute.
func CString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Clone copies b so a decoded value never aliases a receive buffer.
func Clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
