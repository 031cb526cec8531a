package nft

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/netip"
	"slices"

	"github.com/nfkit/nfkit/internal/attr"
)

func decodeSet(f Family, a []byte) (*Set, error) {
	s := &Set{}
	return s, s.unmarshal(f, a)
}

// AllSets streams the sets and maps of family (FamilyUnspec: all), of one
// table when table is not empty (like `nft list sets`).
func (c *Conn) AllSets(ctx context.Context, family Family, table string) iter.Seq2[*Set, error] {
	var e attr.Writer
	if table != "" {
		e.String(attrSetTable, table)
	}
	all := dump(c, ctx, "list sets", msgGetSet, msgNewSet, family, e.Buf, decodeSet)
	return func(yield func(*Set, error) bool) {
		for s, err := range all {
			if err == nil && table != "" && s.Table != table {
				continue
			}
			if !yield(s, err) {
				return
			}
		}
	}
}

// ListSets returns the sets and maps of family (FamilyUnspec: all), of one
// table when table is not empty (like `nft list sets`).
func (c *Conn) ListSets(ctx context.Context, family Family, table string) ([]*Set, error) {
	return collect(func() iter.Seq2[*Set, error] { return c.AllSets(ctx, family, table) })
}

// GetSet returns one set or map without its elements.
func (c *Conn) GetSet(ctx context.Context, family Family, table, name string) (*Set, error) {
	s := &Set{Family: family, Table: table, Name: name}
	if !family.valid() {
		return nil, fmt.Errorf("%w: %v: family %v", ErrInvalid, s, family)
	}
	if err := validName("table name", table); err != nil {
		return nil, err
	}
	if err := validName("set name", name); err != nil {
		return nil, err
	}
	var e attr.Writer
	e.String(attrSetTable, table)
	e.String(attrSetName, name)
	return get(c, ctx, "get set", s.String(), msgGetSet, msgNewSet, family, e.Buf, decodeSet)
}

// AllElements streams the elements of s as the kernel stores them: interval
// sets yield start elements and IntervalEnd elements (ListElements folds
// them into ranges). s must carry its types (from ListSets or GetSet) for
// values to come back typed.
func (c *Conn) AllElements(ctx context.Context, s *Set) iter.Seq2[Element, error] {
	var e attr.Writer
	e.String(attrElemListTable, s.Table)
	e.String(attrElemListSet, s.Name)
	return func(yield func(Element, error) bool) {
		for m, err := range dump(c, ctx, "list elements", msgGetSetElem, msgNewSetElem, s.Family, e.Buf,
			func(_ Family, a []byte) ([]byte, error) { return a, nil }) {
			if err != nil {
				yield(Element{}, kernelErr(err, "list elements", s.String()))
				return
			}
			var perr error
			stop := false
			err := attr.Walk(m, func(typ uint16, d []byte) error {
				if typ&attr.TypeMask != attrElemListElements {
					return nil
				}
				return attr.Walk(d, func(_ uint16, d []byte) error {
					el, err := s.unmarshalElem(d)
					if err != nil {
						perr = err
					}
					if !yield(el, err) {
						stop = true
						return errStop
					}
					return nil
				})
			})
			if stop {
				return
			}
			if err == nil {
				err = perr
			}
			if err != nil {
				yield(Element{}, fmt.Errorf("nft: list elements of %v: %w", s, err))
				return
			}
		}
	}
}

var errStop = fmt.Errorf("stop")

// ListElements returns the elements of s (like `nft list set`). In plain
// interval sets, start and end elements are folded into ranges: Key and
// KeyEnd (inclusive), or a netip.Prefix Key when the range is exactly a
// prefix.
func (c *Conn) ListElements(ctx context.Context, s *Set) ([]Element, error) {
	els, err := collect(func() iter.Seq2[Element, error] { return c.AllElements(ctx, s) })
	if err != nil {
		return nil, err
	}
	if s.Flags&SetInterval == 0 || len(s.KeyType) != 1 {
		return els, nil
	}
	return foldIntervals(s, els), nil
}

// foldIntervals pairs each start element with the end element after it.
func foldIntervals(s *Set, els []Element) []Element {
	slices.SortStableFunc(els, func(a, b Element) int {
		if c := bytes.Compare(a.keyRaw, b.keyRaw); c != 0 {
			return c
		}
		// at equal keys the end of one range comes before the next start
		switch {
		case a.IntervalEnd && !b.IntervalEnd:
			return -1
		case !a.IntervalEnd && b.IntervalEnd:
			return 1
		}
		return 0
	})
	var out []Element
	for i := 0; i < len(els); i++ {
		el := els[i]
		if el.IntervalEnd {
			continue // e.g. nft's leading 0 end marker
		}
		var last []byte
		if i+1 < len(els) && els[i+1].IntervalEnd {
			last = decrement(els[i+1].keyRaw)
			i++
		} else { // open to the top of the key space
			last = bytes.Repeat([]byte{0xff}, len(el.keyRaw))
		}
		if !bytes.Equal(last, el.keyRaw) {
			el.KeyEnd = s.decodeKey(last)
			el.keyEndRaw = last
			if p, ok := asPrefix(el.keyRaw, last); ok {
				el.Key, el.KeyEnd = p, nil
			}
		}
		out = append(out, el)
	}
	return out
}

// asPrefix reports whether [a, b] is exactly one address prefix.
func asPrefix(a, b []byte) (netip.Prefix, bool) {
	if len(a) != 4 && len(a) != 16 {
		return netip.Prefix{}, false
	}
	bits := len(a) * 8
	for bits > 0 {
		i := bits - 1
		ab, bb := a[i/8]&(0x80>>(i%8)) != 0, b[i/8]&(0x80>>(i%8)) != 0
		if ab || !bb {
			break
		}
		bits--
	}
	addr, _ := netip.AddrFromSlice(a)
	p := netip.PrefixFrom(addr, bits)
	if p.Masked() != p {
		return netip.Prefix{}, false
	}
	// the bits before the prefix length must be equal
	for i := 0; i < bits; i++ {
		if (a[i/8]^b[i/8])&(0x80>>(i%8)) != 0 {
			return netip.Prefix{}, false
		}
	}
	return p, true
}
