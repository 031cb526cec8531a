package ipset

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// The ipset codecs append attributes straight into the message buffer and
// walk received attributes in place: bulk loads encode hundreds of
// thousands of entries and dumps decode as many, so a per-attribute
// allocation (as a generic encoder makes) would dominate the cost.

const (
	nlaHdrLen  = 4
	nlaNested  = 0x8000 // NLA_F_NESTED
	nlaNetByte = 0x4000 // NLA_F_NET_BYTEORDER
	nlaTypMask = 0x3fff
)

func nlaAlign(n int) int { return (n + 3) &^ 3 }

// abuf appends netlink attributes.
type abuf struct{ b []byte }

func (w *abuf) attr(typ uint16, v []byte) {
	l := nlaHdrLen + len(v)
	w.b = binary.NativeEndian.AppendUint16(w.b, uint16(l))
	w.b = binary.NativeEndian.AppendUint16(w.b, typ)
	w.b = append(w.b, v...)
	for i := l; i < nlaAlign(l); i++ {
		w.b = append(w.b, 0)
	}
}

func (w *abuf) hdr(typ uint16, l int) {
	w.b = binary.NativeEndian.AppendUint16(w.b, uint16(l))
	w.b = binary.NativeEndian.AppendUint16(w.b, typ)
}

func (w *abuf) u8(typ uint16, v uint8) { w.hdr(typ, 5); w.b = append(w.b, v, 0, 0, 0) }

func (w *abuf) u16(typ uint16, v uint16) {
	w.hdr(typ|nlaNetByte, 6)
	w.b = binary.BigEndian.AppendUint16(w.b, v)
	w.b = append(w.b, 0, 0)
}

func (w *abuf) u32(typ uint16, v uint32) {
	w.hdr(typ|nlaNetByte, 8)
	w.b = binary.BigEndian.AppendUint32(w.b, v)
}

func (w *abuf) u64(typ uint16, v uint64) {
	w.hdr(typ|nlaNetByte, 12)
	w.b = binary.BigEndian.AppendUint64(w.b, v)
}

// str appends a NUL-terminated string, as the kernel's NLA_NUL_STRING
// policies want.
func (w *abuf) str(typ uint16, s string) {
	l := nlaHdrLen + len(s) + 1
	w.hdr(typ, l)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	for i := l; i < nlaAlign(l); i++ {
		w.b = append(w.b, 0)
	}
}

// begin opens a nest and returns its offset for end.
func (w *abuf) begin(typ uint16) int {
	off := len(w.b)
	w.hdr(typ|nlaNested, 0)
	return off
}

func (w *abuf) end(off int) {
	binary.NativeEndian.PutUint16(w.b[off:], uint16(len(w.b)-off))
}

// addr appends an IPSET_ATTR_IP-style nest holding one address.
func (w *abuf) addr(typ uint16, a netip.Addr) {
	off := w.begin(typ)
	if a.Is4() {
		b := a.As4()
		w.attr(attrIPAddrIPv4|nlaNetByte, b[:])
	} else {
		b := a.As16()
		w.attr(attrIPAddrIPv6|nlaNetByte, b[:])
	}
	w.end(off)
}

// aiter walks attributes in place. It never panics: a malformed attribute
// stops the walk and sets err.
type aiter struct {
	b   []byte
	typ uint16 // type without flags
	raw uint16 // type with flags
	val []byte
	all []byte // the whole attribute, header included
	err error
}

func (it *aiter) next() bool {
	if len(it.b) == 0 {
		return false
	}
	if len(it.b) < nlaHdrLen {
		it.err = fmt.Errorf("ipset: %d trailing bytes are shorter than an attribute header", len(it.b))
		return false
	}
	l := int(binary.NativeEndian.Uint16(it.b))
	if l < nlaHdrLen || l > len(it.b) {
		it.err = fmt.Errorf("ipset: attribute length %d out of range (%d bytes left)", l, len(it.b))
		return false
	}
	it.raw = binary.NativeEndian.Uint16(it.b[2:])
	it.typ = it.raw & nlaTypMask
	it.val = it.b[nlaHdrLen:l:l]
	n := nlaAlign(l)
	if n > len(it.b) {
		n = len(it.b)
	}
	it.all = it.b[:n:n]
	it.b = it.b[n:]
	return true
}

// uint reads an integer attribute of 1, 2, 4 or 8 bytes, big-endian when
// it carries NLA_F_NET_BYTEORDER (as ipset's integers do), host order
// otherwise.
func (it *aiter) uint() (uint64, error) {
	v := it.val
	var bo binary.ByteOrder = binary.NativeEndian
	if it.raw&nlaNetByte != 0 {
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
	return 0, fmt.Errorf("ipset: attribute %d: integer of %d bytes", it.typ, len(v))
}

// appendRaw keeps the current attribute as is, padded to the 4-byte
// alignment the next attribute needs (the last attribute of a message may
// come without its padding).
func (it *aiter) appendRaw(dst []byte) []byte {
	dst = append(dst, it.all...)
	for len(dst)%4 != 0 { // dst (a Raw field) starts aligned
		dst = append(dst, 0)
	}
	return dst
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// nestedAddr decodes an IPSET_ATTR_IP-style nest.
func nestedAddr(b []byte) (netip.Addr, error) {
	it := aiter{b: b}
	var a netip.Addr
	for it.next() {
		switch {
		case it.typ == attrIPAddrIPv4 && len(it.val) == 4:
			a = netip.AddrFrom4([4]byte(it.val))
		case it.typ == attrIPAddrIPv6 && len(it.val) == 16:
			a = netip.AddrFrom16([16]byte(it.val))
		default:
			return a, fmt.Errorf("ipset: address attribute %d of %d bytes", it.typ, len(it.val))
		}
	}
	if it.err != nil {
		return a, it.err
	}
	if !a.IsValid() {
		return a, fmt.Errorf("ipset: empty address nest")
	}
	return a, nil
}
