package iptables

import "encoding/binary"

// nlw appends netlink attributes to one buffer: the hot path of Restore
// (62 000 rules) builds every rule's expressions and message this way,
// without an encoder object or a buffer per attribute. Integers are big
// endian (nf_tables), nests carry no NLA_F_NESTED (libmnl, and so
// iptables-nft, does not set it; the kernel dumps nests without it).
type nlw struct{ b []byte }

func (w *nlw) hdr(l int, typ uint16) {
	w.b = binary.NativeEndian.AppendUint16(w.b, uint16(l))
	w.b = binary.NativeEndian.AppendUint16(w.b, typ)
}

func (w *nlw) pad() {
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *nlw) bytes(typ uint16, v []byte) {
	w.hdr(4+len(v), typ)
	w.b = append(w.b, v...)
	w.pad()
}

// str writes s with its NUL, as mdlayher's and libmnl's string attributes.
func (w *nlw) str(typ uint16, s string) {
	w.hdr(5+len(s), typ)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	w.pad()
}

func (w *nlw) u32(typ uint16, v uint32) {
	w.hdr(8, typ)
	w.b = binary.BigEndian.AppendUint32(w.b, v)
}

func (w *nlw) u64(typ uint16, v uint64) {
	w.hdr(12, typ)
	w.b = binary.BigEndian.AppendUint64(w.b, v)
}

// begin opens a nest and returns its offset for end.
func (w *nlw) begin(typ uint16) int {
	off := len(w.b)
	w.hdr(4, typ)
	return off
}

func (w *nlw) end(off int) {
	binary.NativeEndian.PutUint16(w.b[off:], uint16(len(w.b)-off))
}

// data writes a data nest (NFTA_*_DATA) holding v as NFTA_DATA_VALUE.
func (w *nlw) data(typ uint16, v []byte) {
	n := w.begin(typ)
	w.bytes(1, v) // NFTA_DATA_VALUE
	w.end(n)
}
