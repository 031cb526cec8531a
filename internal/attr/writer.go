package attr

import (
	"encoding/binary"
	"errors"
	"math"
)

// Writer appends netlink attributes to Buf, the encoder every nfkit codec
// shares. Bulk loads encode hundreds of thousands of objects through it
// (ipset entries, nf_tables rules and elements), so it appends straight
// into one buffer: no encoder object per nest, no slice per attribute as
// mdlayher's AttributeEncoder makes.
//
// Integers are big-endian (U16, U32, U64), as netfilter's nfnetlink
// subsystems want them, or host order (U16Host ...), as generic netlink
// families such as IPVS do. Flags are the caller's: a nest is
// Begin(typ|Nested) where the kernel wants NLA_F_NESTED, Begin(typ) where
// the reference tool (libmnl, the kernel's own dumps) leaves it out, and
// ipset's integers are U32(typ|NetByteOrder, v).
//
// A payload or nest too long for the u16 length is not written and
// recorded in Err; callers that cannot get there (validated names and
// sizes) may ignore it.
type Writer struct {
	Buf []byte
	err error
}

// Err is the first size overflow met, or nil.
func (w *Writer) Err() error { return w.err }

var (
	errTooLarge     = errors.New("attribute too large for netlink")
	errNestTooLarge = errors.New("nested attribute too large for netlink")
)

// Fail records err as the Writer's error unless one is recorded already:
// an encoder that fails half-way through a nest reports it with the
// Writer's own errors.
func (w *Writer) Fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Header appends an attribute header for a payload of n bytes; the caller
// appends the payload and then Pad.
func (w *Writer) Header(typ uint16, n int) {
	w.Buf = binary.NativeEndian.AppendUint16(w.Buf, uint16(hdrLen+n))
	w.Buf = binary.NativeEndian.AppendUint16(w.Buf, typ)
}

// Pad appends zeros up to the 4-byte alignment (Buf is assumed to start
// aligned, as a message's attributes do).
func (w *Writer) Pad() {
	for len(w.Buf)&3 != 0 {
		w.Buf = append(w.Buf, 0)
	}
}

// Bytes appends an attribute holding v, padded.
func (w *Writer) Bytes(typ uint16, v []byte) {
	if len(v) > math.MaxUint16-hdrLen {
		w.Fail(errTooLarge)
		return
	}
	w.Header(typ, len(v))
	w.Buf = append(w.Buf, v...)
	w.Pad()
}

// String appends s with its NUL terminator, as the kernel's NLA_STRING and
// NLA_NUL_STRING policies, libmnl and libnftnl write strings.
func (w *Writer) String(typ uint16, s string) {
	if len(s) > math.MaxUint16-hdrLen-1 {
		w.Fail(errTooLarge)
		return
	}
	w.Header(typ, len(s)+1)
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, 0)
	w.Pad()
}

// U8 appends a one-byte attribute (and its three bytes of padding).
func (w *Writer) U8(typ uint16, v uint8) {
	w.Header(typ, 1)
	w.Buf = append(w.Buf, v, 0, 0, 0)
}

// U16 appends a big-endian 16-bit attribute, padded.
func (w *Writer) U16(typ uint16, v uint16) {
	w.Header(typ, 2)
	w.Buf = binary.BigEndian.AppendUint16(w.Buf, v)
	w.Buf = append(w.Buf, 0, 0)
}

// U32 appends a big-endian 32-bit attribute.
func (w *Writer) U32(typ uint16, v uint32) {
	w.Header(typ, 4)
	w.Buf = binary.BigEndian.AppendUint32(w.Buf, v)
}

// U64 appends a big-endian 64-bit attribute.
func (w *Writer) U64(typ uint16, v uint64) {
	w.Header(typ, 8)
	w.Buf = binary.BigEndian.AppendUint64(w.Buf, v)
}

// U16Host appends a host-order 16-bit attribute, padded.
func (w *Writer) U16Host(typ uint16, v uint16) {
	w.Header(typ, 2)
	w.Buf = binary.NativeEndian.AppendUint16(w.Buf, v)
	w.Buf = append(w.Buf, 0, 0)
}

// U32Host appends a host-order 32-bit attribute.
func (w *Writer) U32Host(typ uint16, v uint32) {
	w.Header(typ, 4)
	w.Buf = binary.NativeEndian.AppendUint32(w.Buf, v)
}

// U64Host appends a host-order 64-bit attribute.
func (w *Writer) U64Host(typ uint16, v uint64) {
	w.Header(typ, 8)
	w.Buf = binary.NativeEndian.AppendUint64(w.Buf, v)
}

// Begin opens a nest of type typ (flags as given: pass typ|Nested for
// NLA_F_NESTED) and returns its offset for End.
func (w *Writer) Begin(typ uint16) int {
	off := len(w.Buf)
	w.Header(typ, 0)
	return off
}

// End closes the nest opened at off, writing its length. A nest longer
// than a u16 length can say is recorded in Err.
func (w *Writer) End(off int) {
	n := len(w.Buf) - off
	if n > math.MaxUint16 {
		w.Fail(errNestTooLarge)
		return
	}
	binary.NativeEndian.PutUint16(w.Buf[off:], uint16(n))
}
