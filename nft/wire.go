package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// This file is the attribute codec of the package: an append-only encoder
// and a raw TLV walker. Both are small and allocation-light because a
// 200 000-rule batch and a 1 000 000-element dump go through them; the
// walker also sees the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits, which
// mdlayher's decoder masks off, so unknown attributes re-encode exactly.

const (
	nlaNested    = 1 << 15 // NLA_F_NESTED
	nlaNetOrder  = 1 << 14 // NLA_F_NET_BYTEORDER
	nlaTypeMask  = ^uint16(nlaNested | nlaNetOrder)
	nlaHdrLen    = 4
	nlaAlignment = 4
)

func nlaAlign(n int) int { return (n + nlaAlignment - 1) &^ (nlaAlignment - 1) }

// rawAttr is an attribute kept undecoded (type with flags, payload).
type rawAttr struct {
	Type uint16
	Data []byte
}

// enc appends netlink attributes to a byte slice.
type enc struct{ b []byte }

func (e *enc) attr(typ uint16, data []byte) {
	l := nlaHdrLen + len(data)
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(l))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = append(e.b, data...)
	for i := l; i < nlaAlign(l); i++ {
		e.b = append(e.b, 0)
	}
}

// str writes a NUL-terminated string, as the kernel and libnftnl do.
func (e *enc) str(typ uint16, s string) {
	l := nlaHdrLen + len(s) + 1
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(l))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	for i := l; i < nlaAlign(l); i++ {
		e.b = append(e.b, 0)
	}
}

func (e *enc) u8(typ uint16, v uint8) { e.attr(typ, []byte{v}) }

func (e *enc) u16(typ uint16, v uint16) { e.attr(typ, binary.BigEndian.AppendUint16(nil, v)) }

func (e *enc) u32(typ uint16, v uint32) {
	e.b = binary.NativeEndian.AppendUint16(e.b, 8)
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = binary.BigEndian.AppendUint32(e.b, v)
}

func (e *enc) u64(typ uint16, v uint64) {
	e.b = binary.NativeEndian.AppendUint16(e.b, 12)
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	e.b = binary.BigEndian.AppendUint64(e.b, v)
}

// begin opens a nested attribute; end closes it. Like the kernel's dumps
// (nla_nest_start_noflag) it does not set NLA_F_NESTED, which nf_tables
// does not require, so listed objects re-encode to the dumped bytes.
func (e *enc) begin(typ uint16) int {
	off := len(e.b)
	e.b = binary.NativeEndian.AppendUint16(e.b, 0)
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	return off
}

func (e *enc) end(off int) {
	binary.NativeEndian.PutUint16(e.b[off:], uint16(len(e.b)-off))
}

func (e *enc) raw(attrs []rawAttr) {
	for _, a := range attrs {
		e.attr(a.Type, a.Data)
	}
}

var errShortAttr = errors.New("truncated netlink attribute")

// walk calls fn for each attribute of b with its type (flags kept) and
// payload (aliasing b). It never panics on malformed input.
func walk(b []byte, fn func(typ uint16, data []byte) error) error {
	for len(b) > 0 {
		if len(b) < nlaHdrLen {
			return errShortAttr
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4])
		if l < nlaHdrLen || l > len(b) {
			return fmt.Errorf("netlink attribute length %d out of range (%d bytes left)", l, len(b))
		}
		if err := fn(typ, b[nlaHdrLen:l:l]); err != nil {
			return err
		}
		n := nlaAlign(l)
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return nil
}

// attrs iterates over the attributes of b like walk, without a callback
// (hot decoders use it to avoid a closure per object).
type attrs struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

func (it *attrs) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	if len(it.b) < nlaHdrLen {
		it.err = errShortAttr
		return false
	}
	l := int(binary.NativeEndian.Uint16(it.b[0:2]))
	if l < nlaHdrLen || l > len(it.b) {
		it.err = fmt.Errorf("netlink attribute length %d out of range (%d bytes left)", l, len(it.b))
		return false
	}
	it.typ = binary.NativeEndian.Uint16(it.b[2:4])
	it.data = it.b[nlaHdrLen:l:l]
	it.b = it.b[min(nlaAlign(l), len(it.b)):]
	return true
}

// trimNUL is getStr without the conversion to string.
func trimNUL(d []byte) []byte {
	if i := indexNUL(d); i >= 0 {
		return d[:i]
	}
	return d
}

func getU32(d []byte) (uint32, error) {
	if len(d) != 4 {
		return 0, fmt.Errorf("u32 attribute of %d bytes", len(d))
	}
	return binary.BigEndian.Uint32(d), nil
}

func getU64(d []byte) (uint64, error) {
	if len(d) != 8 {
		return 0, fmt.Errorf("u64 attribute of %d bytes", len(d))
	}
	return binary.BigEndian.Uint64(d), nil
}

// getStr reads a kernel string attribute: NUL-terminated, with nothing
// after the NUL. A string without its NUL is accepted (libnftnl writes
// them that way in a few places) but reported via exact=false so the
// encoder can reproduce it.
func getStr(d []byte) string {
	for i, c := range d {
		if c == 0 {
			return string(d[:i])
		}
	}
	return string(d)
}

func indexNUL(d []byte) int {
	for i, c := range d {
		if c == 0 {
			return i
		}
	}
	return -1
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
