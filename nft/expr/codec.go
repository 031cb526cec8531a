package expr

import (
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// The package encodes with attr.Writer and walks with attr.Iter, which
// append to one byte slice and walk the input in place: a 20 000-rule
// listing decodes about 100 000 expressions, and mdlayher's decoder copies
// every attribute and its encoder allocates one slice per attribute, which
// made Decode the bulk of a listing's allocations. Integers are big-endian
// (U8 ... U64), strings NUL-terminated, nests carry NLA_F_NESTED (Nested),
// as libnftnl sends them.

// enc is attr.Writer with the callback form of a nest.
type enc struct{ attr.Writer }

// Nested writes typ|NLA_F_NESTED holding what fn writes.
func (e *enc) Nested(typ uint16, fn func(*enc) error) {
	off := e.Begin(typ | unix.NLA_F_NESTED)
	if err := fn(e); err != nil {
		e.Fail(err)
	}
	e.End(off)
}

// dec is attr.Iter with the Decoder's value arena (keep) and a callback
// reader (Do). Kind is the attribute type without flags; Data aliases the
// input, so a caller that keeps data copies it (keep).
type dec struct {
	attr.Iter
	arena *[]byte // the Decoder's value arena, or nil
}

// newDec checks that b is a well-formed attribute stream (every length at
// least a header and inside b) before anything is read.
func newDec(b []byte) (dec, error) {
	if err := attr.Validate(b); err != nil {
		return dec{}, err
	}
	var d dec
	d.Reset(b) // in place: no copy of a returned Iter
	return d, nil
}

func (d *dec) Do(fn func([]byte) error) {
	if d.Err() == nil {
		if err := fn(d.Data()); err != nil {
			d.Fail(err)
		}
	}
}

// keep copies b out of the input, into the Decoder's arena when there is
// room (one allocation per rule instead of one per value).
func (d *dec) keep(b []byte) []byte {
	if b == nil {
		return nil
	}
	if d.arena != nil {
		a := *d.arena
		if cap(a)-len(a) >= len(b) {
			n := len(a)
			a = append(a, b...)
			*d.arena = a
			return a[n:len(a):len(a)]
		}
	}
	return cloneBytes(b)
}

// sub returns a decoder for the nested attributes of the current one,
// sharing the arena.
func (d *dec) sub() (dec, error) {
	n, err := newDec(d.Data())
	n.arena = d.arena
	return n, err
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
