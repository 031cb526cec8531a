package iptables

import "github.com/nfkit/nfkit/internal/attr"

// Rules are encoded with attr.Writer appending to one buffer: the hot
// path of Restore (62 000 rules) builds every rule's expressions and
// message this way, without an encoder object or a buffer per attribute.
// Integers are big endian (nf_tables), nests carry no NLA_F_NESTED
// (libmnl, and so iptables-nft, does not set it; the kernel dumps nests
// without it).

// putData writes a data nest (NFTA_*_DATA) holding v as NFTA_DATA_VALUE.
func putData(w *attr.Writer, typ uint16, v []byte) {
	n := w.Begin(typ)
	w.Bytes(1, v) // NFTA_DATA_VALUE
	w.End(n)
}
