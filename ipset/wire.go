package ipset

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/nfkit/nfkit/internal/attr"
)

// The ipset codecs append attributes straight into the message buffer and
// walk received attributes in place (the shared attr.Writer and
// attr.Iter): bulk loads encode hundreds of thousands of entries and dumps
// decode as many, so a per-attribute allocation (as a generic encoder
// makes) would dominate the cost.

// abuf is attr.Writer with ipset's flag conventions: integers wider than
// a byte carry NLA_F_NET_BYTEORDER and nests NLA_F_NESTED, as libipset
// writes them and the kernel's policies require.
type abuf struct{ attr.Writer }

func (w *abuf) u16(typ uint16, v uint16) { w.U16(typ|attr.NetByteOrder, v) }

func (w *abuf) u32(typ uint16, v uint32) { w.U32(typ|attr.NetByteOrder, v) }

func (w *abuf) u64(typ uint16, v uint64) { w.U64(typ|attr.NetByteOrder, v) }

// begin opens a nest and returns its offset for End.
func (w *abuf) begin(typ uint16) int { return w.Begin(typ | attr.Nested) }

// addr appends an IPSET_ATTR_IP-style nest holding one address.
func (w *abuf) addr(typ uint16, a netip.Addr) {
	off := w.begin(typ)
	if a.Is4() {
		b := a.As4()
		w.Bytes(attrIPAddrIPv4|attr.NetByteOrder, b[:])
	} else {
		b := a.As16()
		w.Bytes(attrIPAddrIPv6|attr.NetByteOrder, b[:])
	}
	w.End(off)
}

// walkErr is an attr.Iter's error with the package prefix.
func walkErr(it *attr.Iter) error {
	if err := it.Err(); err != nil {
		return fmt.Errorf("ipset: %w", err)
	}
	return nil
}

// uintAttr reads an integer attribute of 1, 2, 4 or 8 bytes, big-endian
// when it carries NLA_F_NET_BYTEORDER (as ipset's integers do), host order
// otherwise.
func uintAttr(it *attr.Iter) (uint64, error) {
	v := it.Data()
	var bo binary.ByteOrder = binary.NativeEndian
	if it.Type()&attr.NetByteOrder != 0 {
		bo = binary.BigEndian
	}
	switch len(v) {
	case 1:
		return uint64(v[0]), nil
	case 2:
		return uint64(bo.Uint16(v)), nil
	case 4:
		return uint64(bo.Uint32(v)), nil
	case 8:
		return bo.Uint64(v), nil
	}
	return 0, fmt.Errorf("ipset: attribute %d: integer of %d bytes", it.Kind(), len(v))
}

// appendRaw keeps the current attribute as is, padded to the 4-byte
// alignment the next attribute needs (the last attribute of a message may
// come without its padding).
func appendRaw(dst []byte, it *attr.Iter) []byte {
	dst = append(dst, it.Attr()...)
	for len(dst)%4 != 0 { // dst (a Raw field) starts aligned
		dst = append(dst, 0)
	}
	return dst
}

// nestedAddr decodes an IPSET_ATTR_IP-style nest.
func nestedAddr(b []byte) (netip.Addr, error) {
	it := attr.NewIter(b)
	var a netip.Addr
	for it.Next() {
		switch d := it.Data(); {
		case it.Kind() == attrIPAddrIPv4 && len(d) == 4:
			a = netip.AddrFrom4([4]byte(d))
		case it.Kind() == attrIPAddrIPv6 && len(d) == 16:
			a = netip.AddrFrom16([16]byte(d))
		default:
			return a, fmt.Errorf("ipset: address attribute %d of %d bytes", it.Kind(), len(d))
		}
	}
	if err := walkErr(&it); err != nil {
		return a, err
	}
	if !a.IsValid() {
		return a, fmt.Errorf("ipset: empty address nest")
	}
	return a, nil
}
