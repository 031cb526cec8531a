package ipvs

import (
	"encoding/binary"
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
)

// walker iterates over netlink attributes with an index into the byte
// slice, allocating nothing. ListServices decodes every destination of
// every service; with mdlayher's AttributeDecoder each destination cost
// about thirty allocations (a decoder per nest, a copy per Bytes call),
// which under a slow CPU (qemu TCG) was most of the listing time.
// Integers are host order, as IPVS sends them; a malformed length or an
// integer of the wrong size stops the walk with err, never a panic.
type walker struct {
	b          []byte
	off        int // next attribute
	start, end int // current payload is b[start:end]
	typ        uint16
	err        error
}

func newWalker(b []byte) walker { return walker{b: b} }

func (w *walker) next() bool {
	rest := len(w.b) - w.off
	if w.err != nil || rest <= 0 {
		return false
	}
	if rest < 4 {
		w.err = fmt.Errorf("ipvs: %d trailing bytes are shorter than an attribute header", rest)
		return false
	}
	h := w.b[w.off : w.off+4]
	l := int(binary.NativeEndian.Uint16(h[0:2]))
	if l < 4 || l > rest {
		w.err = fmt.Errorf("ipvs: attribute length %d out of range (%d bytes left)", l, rest)
		return false
	}
	w.typ = binary.NativeEndian.Uint16(h[2:4])
	w.start, w.end = w.off+4, w.off+l
	w.off += min((l+3)&^3, rest)
	return true
}

// kind is the type without NLA_F_NESTED / NLA_F_NET_BYTEORDER.
func (w *walker) kind() uint16 { return w.typ & 0x3fff }

// data aliases the walked bytes.
func (w *walker) data() []byte { return w.b[w.start:w.end:w.end] }

// raw copies the current attribute, flags included, for Unknown.
func (w *walker) raw() RawAttr { return RawAttr{Type: w.typ, Data: attr.Clone(w.data())} }

func (w *walker) bad(want int) {
	if w.err == nil {
		w.err = fmt.Errorf("ipvs: attribute %d has %d bytes, want %d", w.kind(), w.end-w.start, want)
	}
}

func (w *walker) u8() uint8 {
	if w.end-w.start != 1 {
		w.bad(1)
		return 0
	}
	return w.b[w.start]
}

func (w *walker) u16() uint16 {
	if w.end-w.start != 2 {
		w.bad(2)
		return 0
	}
	return binary.NativeEndian.Uint16(w.data())
}

func (w *walker) u32() uint32 {
	if w.end-w.start != 4 {
		w.bad(4)
		return 0
	}
	return binary.NativeEndian.Uint32(w.data())
}

// str is a kernel string without its NUL terminator (all trailing NULs
// go, as with mdlayher's decoder).
func (w *walker) str() string {
	d := w.data()
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	return string(d)
}
