package conntrack

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
)

// Attr is an attribute this package does not know. Decoders keep such
// attributes, in order, and the encoders write them back unchanged, so a
// newer kernel's additions survive a read-modify-write.
type Attr struct {
	Type uint16 // including NLA_F_NESTED / NLA_F_NET_BYTEORDER as received
	Data []byte
}

// walker iterates over netlink attributes with an index into the byte
// slice and never allocates. It is the dump hot path: mdlayher's
// AttributeDecoder allocates a decoder per nest, which on a conntrack entry
// (about ten nests) dominated the per-flow cost. Nests are walked with
// child/join in a plain loop, never through a closure (see child). Errors
// never panic: a malformed length stops the walk and is reported by err.
type walker struct {
	b          []byte // the attributes being walked; never resliced
	off        int    // offset of the next attribute
	start, end int    // the current attribute's payload is b[start:end]
	typ        uint16 // raw type, flags included
	err        error
}

// Only integers change while walking: resliced []byte fields would be
// pointer writes, each paying a GC write barrier whenever a collection is
// running, which on a long dump is much of the time.

func newWalker(b []byte) walker { return walker{b: b} }

func (w *walker) next() bool {
	rest := len(w.b) - w.off
	if w.err != nil || rest <= 0 {
		return false
	}
	if rest < 4 {
		w.err = fmt.Errorf("conntrack: %d trailing bytes are shorter than an attribute header", rest)
		return false
	}
	h := w.b[w.off : w.off+4]
	l := int(binary.NativeEndian.Uint16(h[0:2]))
	if l < 4 || l > rest {
		w.err = fmt.Errorf("conntrack: attribute length %d out of range (%d bytes left)", l, rest)
		return false
	}
	w.typ = binary.NativeEndian.Uint16(h[2:4])
	w.start, w.end = w.off+4, w.off+l
	w.off += min((l+3)&^3, rest)
	return true
}

// data is the current attribute's payload; it aliases the walked bytes.
func (w *walker) data() []byte { return w.b[w.start:w.end:w.end] }

// kind is the attribute type without the nested/byte-order flags.
func (w *walker) kind() uint16 { return w.typ & 0x3fff }

func (w *walker) raw() Attr { return Attr{Type: w.typ, Data: attr.Clone(w.data())} }

func (w *walker) fail(what string, want int) {
	if w.err == nil {
		w.err = fmt.Errorf("conntrack: %s attribute has %d bytes, want %d", what, len(w.data()), want)
	}
}

func (w *walker) u8(what string) uint8 {
	if len(w.data()) != 1 {
		w.fail(what, 1)
		return 0
	}
	return w.data()[0]
}

func (w *walker) u16(what string) uint16 {
	if len(w.data()) != 2 {
		w.fail(what, 2)
		return 0
	}
	return binary.BigEndian.Uint16(w.data())
}

func (w *walker) u32(what string) uint32 {
	if len(w.data()) != 4 {
		w.fail(what, 4)
		return 0
	}
	return binary.BigEndian.Uint32(w.data())
}

func (w *walker) u64(what string) uint64 {
	if len(w.data()) != 8 {
		w.fail(what, 8)
		return 0
	}
	return binary.BigEndian.Uint64(w.data())
}

// child returns a walker over the current attribute's payload. Callers
// loop over it in place and hand it back with join; there is deliberately
// no callback form: a walker passed to a function value escapes to the
// heap, which cost one allocation per nest on the dump path.
func (w *walker) child() walker { return walker{b: w.data()} }

// join propagates a child walker's error.
func (w *walker) join(n *walker) {
	if n.err != nil && w.err == nil {
		w.err = n.err
	}
}

func putUnknown(ae *netlink.AttributeEncoder, u []Attr) {
	for _, a := range u {
		ae.Bytes(a.Type, a.Data)
	}
}

// nest encodes a nested attribute with NLA_F_NESTED, as the kernel writes it.
func nest(ae *netlink.AttributeEncoder, typ uint16, fn func(*netlink.AttributeEncoder)) {
	ae.Nested(typ, func(n *netlink.AttributeEncoder) error { fn(n); return nil })
}

func newEncoder() *netlink.AttributeEncoder { return attr.NewEncoder() }

type nlMessage = netlink.Message

const (
	nlCreate = netlink.Create
	nlExcl   = netlink.Excl
)

type (
	nlHeaderType  = netlink.HeaderType
	nlHeaderFlags = netlink.HeaderFlags
)
