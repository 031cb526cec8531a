package attr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The attribute walker every nfkit decoder shares. Dumps decode hundreds
// of thousands of objects through it (conntrack flows, ipset entries,
// nf_tables rules), so it allocates nothing: mdlayher's AttributeDecoder
// allocates a decoder per nest and copies every payload, which dominated
// the per-object cost of each package before they grew private walkers.

// Netlink attribute layout (include/uapi/linux/netlink.h): a 4-byte
// header (u16 length including the header, u16 type, host order), the
// payload, then padding to a 4-byte boundary.
const (
	hdrLen = 4

	// TypeMask clears NLA_F_NESTED and NLA_F_NET_BYTEORDER from a type.
	TypeMask = ^uint16(Nested | NetByteOrder)
)

// Align rounds n up to the 4-byte netlink attribute alignment.
func Align(n int) int { return (n + 3) &^ 3 }

// ErrMalformed is wrapped by every error the walker reports: a length
// outside the input, trailing bytes shorter than a header, an integer of
// the wrong size.
var ErrMalformed = errors.New("malformed netlink attribute")

// Iter walks the attributes of a byte slice in place:
//
//	it := attr.NewIter(b)
//	for it.Next() {
//		switch it.Kind() { ... }
//	}
//	if err := it.Err(); err != nil { ... }
//
// Data aliases the input; a decoder that keeps bytes copies them (Clone).
// Nests are walked with Nested, a child Iter returned by value, in a plain
// loop: an Iter handed to a function value escapes to the heap, which cost
// one allocation per nest on the dump paths. Join hands a child's error
// back to its parent.
//
// Malformed input never panics: the walk stops and Err reports why. Only
// integers change while walking, never a slice header: a resliced []byte
// field would be a pointer write paying a GC write barrier whenever a
// collection runs, which on a long dump is much of the time.
type Iter struct {
	b          []byte // the attributes being walked; never resliced
	off        int    // offset of the next attribute
	start, end int    // the current attribute's payload is b[start:end]
	typ        uint16 // the current type, flags included
	err        error
}

// NewIter returns an Iter over the attributes in b.
func NewIter(b []byte) Iter { return Iter{b: b} }

// Next advances to the next attribute. It returns false at the end of the
// input and after any error (see Err). The last attribute may come
// without its padding, as the kernel sends it at the end of a message.
func (it *Iter) Next() bool {
	off := it.off
	rest := len(it.b) - off
	if rest <= 0 || it.err != nil {
		return false
	}
	if rest < hdrLen {
		return it.malformed(0, rest)
	}
	h := it.b[off : off+hdrLen]
	l := int(binary.NativeEndian.Uint16(h))
	if l < hdrLen || l > rest {
		return it.malformed(l, rest)
	}
	it.typ = binary.NativeEndian.Uint16(h[2:])
	it.start, it.end = off+hdrLen, off+l
	it.off = off + min(Align(l), rest)
	return true
}

// malformed records why the walk stops (a header cut short when l is 0)
// and returns false.
func (it *Iter) malformed(l, rest int) bool {
	if l == 0 && rest < hdrLen {
		it.err = shortErr(rest)
	} else {
		it.err = lengthErr(l, rest)
	}
	return false
}

// The error constructors stay out of Next so that it stays small.

func shortErr(rest int) error {
	return fmt.Errorf("%w: %d trailing bytes are shorter than an attribute header", ErrMalformed, rest)
}

func lengthErr(l, rest int) error {
	return fmt.Errorf("%w: length %d out of range (%d bytes left)", ErrMalformed, l, rest)
}

// Type is the current attribute's type as received, NLA_F_NESTED and
// NLA_F_NET_BYTEORDER included (what an encoder needs to write an unknown
// attribute back unchanged).
func (it *Iter) Type() uint16 { return it.typ }

// Kind is the current attribute's type without NLA_F_NESTED and
// NLA_F_NET_BYTEORDER (what a decoder switches on).
func (it *Iter) Kind() uint16 { return it.typ & TypeMask }

// Data is the current attribute's payload. It aliases the input, with its
// capacity cut so that an append cannot overwrite the next attribute.
func (it *Iter) Data() []byte { return it.b[it.start:it.end:it.end] }

// Len is the length of the current payload.
func (it *Iter) Len() int { return it.end - it.start }

// Attr is the whole current attribute: header, payload and the padding
// that was present in the input (none after a last attribute sent
// unpadded). It aliases the input.
func (it *Iter) Attr() []byte { return it.b[it.start-hdrLen : it.off : it.off] }

// Err is the first error met by the walk, or by a Join'ed child, an
// integer reader, or Fail.
func (it *Iter) Err() error { return it.err }

// Fail records err, unless an error is already recorded, and so ends the
// walk. Decoders use it for their own checks (a named field of the wrong
// size, a bad value) so that one Err reports the first problem.
func (it *Iter) Fail(err error) {
	if it.err == nil {
		it.err = err
	}
}

// Nested returns an Iter over the current attribute's payload.
func (it *Iter) Nested() Iter { return Iter{b: it.Data()} }

// Join records the error of a child Iter (from Nested), if any.
func (it *Iter) Join(child *Iter) {
	if child.err != nil && it.err == nil {
		it.err = child.err
	}
}

// size reports whether the current payload has n bytes and records a
// size error if not.
func (it *Iter) size(n int) bool {
	if it.end-it.start == n {
		return true
	}
	it.sizeFail(n)
	return false
}

// sizeFail is out of line so that size, and the integer readers, inline.
func (it *Iter) sizeFail(n int) { it.Fail(SizeError(it.Kind(), it.end-it.start, n)) }

// SizeError is the error of an integer attribute of the wrong size.
func SizeError(kind uint16, got, want int) error {
	return fmt.Errorf("%w: attribute %d has %d bytes, want %d", ErrMalformed, kind, got, want)
}

// U8 reads a one-byte payload. A payload of another size records an error
// (see Err) and reads 0; so do U16 ... U64Host.
func (it *Iter) U8() uint8 {
	if !it.size(1) {
		return 0
	}
	return it.b[it.start]
}

// U16 reads a big-endian (network order) 16-bit payload, as netfilter's
// nfnetlink subsystems send integers.
func (it *Iter) U16() uint16 {
	if !it.size(2) {
		return 0
	}
	return binary.BigEndian.Uint16(it.b[it.start:])
}

// U32 reads a big-endian 32-bit payload.
func (it *Iter) U32() uint32 {
	if !it.size(4) {
		return 0
	}
	return binary.BigEndian.Uint32(it.b[it.start:])
}

// U64 reads a big-endian 64-bit payload.
func (it *Iter) U64() uint64 {
	if !it.size(8) {
		return 0
	}
	return binary.BigEndian.Uint64(it.b[it.start:])
}

// U16Host reads a host-order 16-bit payload, as generic netlink families
// such as IPVS send integers.
func (it *Iter) U16Host() uint16 {
	if !it.size(2) {
		return 0
	}
	return binary.NativeEndian.Uint16(it.b[it.start:])
}

// U32Host reads a host-order 32-bit payload.
func (it *Iter) U32Host() uint32 {
	if !it.size(4) {
		return 0
	}
	return binary.NativeEndian.Uint32(it.b[it.start:])
}

// U64Host reads a host-order 64-bit payload.
func (it *Iter) U64Host() uint64 {
	if !it.size(8) {
		return 0
	}
	return binary.NativeEndian.Uint64(it.b[it.start:])
}

// String is the current payload as a string without its trailing NULs
// (all of them, as mdlayher's decoder reads strings). CString(it.Data())
// stops at the first NUL instead.
func (it *Iter) String() string {
	d := it.b[it.start:it.end]
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	return string(d)
}

// Validate checks that b is a well-formed attribute stream at its top
// level (every length at least a header and inside b), without looking
// into nests: a decoder that must not act on half an object checks first.
func Validate(b []byte) error {
	// A loop of its own, lengths only: decoders that validate first (nft
	// expressions) run it once per expression.
	for off := 0; off < len(b); {
		rest := len(b) - off
		if rest < hdrLen {
			return shortErr(rest)
		}
		l := int(binary.NativeEndian.Uint16(b[off:]))
		if l < hdrLen || l > rest {
			return lengthErr(l, rest)
		}
		off += min(Align(l), rest)
	}
	return nil
}

// Walk calls fn for each attribute of b with its type (flags included) and
// payload (aliasing b), and stops at the first error, fn's or the walk's.
// It is for cold paths; hot decoders loop over an Iter instead (fn's
// captured variables escape).
func Walk(b []byte, fn func(typ uint16, data []byte) error) error {
	it := NewIter(b)
	for it.Next() {
		if err := fn(it.typ, it.Data()); err != nil {
			return err
		}
	}
	return it.err
}

// Reset makes it walk b from the start, with no error: the same as
// NewIter, for an Iter embedded in a caller's own walker type, without a
// copy of the whole struct.
func (it *Iter) Reset(b []byte) { *it = Iter{b: b} }
