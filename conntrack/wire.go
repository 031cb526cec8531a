package conntrack

import (
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

// walker is the shared attribute walker (attr.Iter: in place, allocation
// free, never panics) with conntrack's named-field integer readers, so a
// size error names the CTA_ attribute. The dump hot path walks about ten
// nests per flow with child/join in a plain loop, never through a closure
// (a walker passed to a function value escapes to the heap, one
// allocation per nest).
type walker struct{ attr.Iter }

// newWalker and child set the one field they need, in place: wrapping a
// returned Iter (walker{attr.NewIter(b)}) zeroed and copied the whole
// struct twice per nest, a measurable share of the dump path.
func newWalker(b []byte) (w walker) {
	w.Reset(b)
	return w
}

// child returns a walker over the current attribute's payload; join hands
// its error back.
func (w *walker) child() (n walker) {
	n.Reset(w.Data())
	return n
}

func (w *walker) join(n *walker) { w.Join(&n.Iter) }

// err is the walk's first error, prefixed with the package name.
func (w *walker) err() error {
	if err := w.Err(); err != nil {
		return fmt.Errorf("conntrack: %w", err)
	}
	return nil
}

func (w *walker) raw() Attr { return Attr{Type: w.Type(), Data: attr.Clone(w.Data())} }

func (w *walker) fail(what string, want int) {
	w.Fail(fmt.Errorf("%w: %s attribute has %d bytes, want %d", attr.ErrMalformed, what, w.Len(), want))
}

func (w *walker) u8(what string) uint8 {
	if w.Len() != 1 {
		w.fail(what, 1)
		return 0
	}
	return w.U8()
}

func (w *walker) u16(what string) uint16 {
	if w.Len() != 2 {
		w.fail(what, 2)
		return 0
	}
	return w.U16()
}

func (w *walker) u32(what string) uint32 {
	if w.Len() != 4 {
		w.fail(what, 4)
		return 0
	}
	return w.U32()
}

func (w *walker) u64(what string) uint64 {
	if w.Len() != 8 {
		w.fail(what, 8)
		return 0
	}
	return w.U64()
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
