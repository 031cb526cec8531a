package nft

import (
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
)

// maxElemBytes bounds the NFTA_SET_ELEM_LIST_ELEMENTS nest of one message:
// nla_len is 16 bits, so a message holds at most 64 KiB of elements. Big
// element batches become many messages of one transaction.
const maxElemBytes = 60 << 10

func (b *Batch) nextID() uint32 {
	b.ids++
	return b.ids
}

func (b *Batch) setOp(verb string, cmd uint8, flags netlink.HeaderFlags, s *Set, state bool) {
	if state && s.ID == 0 {
		s.ID = b.nextID()
	}
	o := op{verb: verb, kind: "set", cmd: cmd, flags: flags, family: s.Family, obj: s}
	o.encode = func(e *attr.Writer) error {
		if state {
			if err := s.validate(); err != nil {
				return err
			}
			return s.marshal(e, false)
		}
		if !s.Family.valid() {
			return fmt.Errorf("%w: %v: family %v", ErrInvalid, s, s.Family)
		}
		if err := validName("table name", s.Table); err != nil {
			return err
		}
		e.String(attrSetTable, s.Table)
		if s.Handle != 0 && s.Name == "" && cmd != msgDelSetElem {
			e.U64(attrSetHandle, s.Handle)
			return nil
		}
		if err := validName("set name", s.Name); err != nil {
			return err
		}
		e.String(attrSetName, s.Name)
		return nil
	}
	if state {
		o.echo = func(a []byte) {
			var got Set
			if got.unmarshal(s.Family, a) == nil {
				if got.Handle != 0 {
					s.Handle = got.Handle
				}
				if s.Anonymous && got.Name != "" {
					s.Name = got.Name // the kernel filled in __set%d
				}
			}
		}
	}
	b.add(o)
}

// AddSet adds s (like `nft add set` / `nft add map`); an identical existing
// set is not an error. s.ID is assigned if zero, so rules in the same batch
// can reference the set by ID.
func (b *Batch) AddSet(s *Set) { b.setOp("add", msgNewSet, netlink.Create, s, true) }

// CreateSet adds s and fails with EEXIST if it exists (like `nft create
// set`).
func (b *Batch) CreateSet(s *Set) {
	b.setOp("create", msgNewSet, netlink.Create|netlink.Excl, s, true)
}

// DeleteSet deletes an unreferenced set (like `nft delete set`).
func (b *Batch) DeleteSet(s *Set) { b.setOp("delete", msgDelSet, 0, s, false) }

// DestroySet deletes s if it exists (like `nft destroy set`, Linux 6.3).
func (b *Batch) DestroySet(s *Set) { b.setOp("destroy", msgDestroySet, 0, s, false) }

// FlushSet deletes every element of s (like `nft flush set`).
func (b *Batch) FlushSet(s *Set) { b.setOp("flush", msgDelSetElem, 0, s, false) }

func (b *Batch) elemOp(verb string, cmd uint8, flags netlink.HeaderFlags, s *Set, elems []Element) {
	o := op{verb: verb, kind: "elements", cmd: cmd, flags: flags, family: s.Family,
		obj: stringer(fmt.Sprintf("%d elements of %v", len(elems), s))}
	o.multi = func() ([][]byte, error) {
		if !s.Family.valid() {
			return nil, fmt.Errorf("%w: %v: family %v", ErrInvalid, s, s.Family)
		}
		if err := validName("table name", s.Table); err != nil {
			return nil, err
		}
		if err := validName("set name", s.Name); err != nil && !s.Anonymous {
			return nil, err
		}
		wire, err := s.wireElements(elems, cmd == msgNewSetElem)
		if err != nil {
			return nil, err
		}
		var out [][]byte
		var e attr.Writer
		start := func() int {
			e.Buf = make([]byte, 0, 4096)
			e.String(attrElemListTable, s.Table)
			e.String(attrElemListSet, s.Name)
			if s.Anonymous && s.ID != 0 {
				e.U32(attrElemListSetID, s.ID)
			}
			return e.Begin(attrElemListElements)
		}
		nest := start()
		count := 0
		for _, w := range wire {
			mark := len(e.Buf)
			if err := s.marshalElem(&e, w); err != nil {
				return nil, err
			}
			if len(e.Buf)-nest > maxElemBytes && count > 0 {
				elem := append([]byte(nil), e.Buf[mark:]...)
				e.Buf = e.Buf[:mark]
				e.End(nest)
				out = append(out, e.Buf)
				nest = start()
				e.Buf = append(e.Buf, elem...)
				count = 0
			}
			count++
		}
		e.End(nest)
		if err := e.Err(); err != nil { // an element past the u16 attribute length
			return nil, fmt.Errorf("%w: set %s: %v", ErrInvalid, s.Name, err)
		}
		return append(out, e.Buf), nil
	}
	b.add(o)
}

// AddElements adds elements to s (like `nft add element`): existing
// identical elements are not an error. Intervals get their end elements
// and are merged or checked for overlaps (see Set.AutoMerge). s must carry
// its key (and value) types; a set from ListSets does.
func (b *Batch) AddElements(s *Set, elems ...Element) {
	b.elemOp("add", msgNewSetElem, netlink.Create, s, elems)
}

// CreateElements adds elements and fails with EEXIST if one exists (like
// `nft create element`).
func (b *Batch) CreateElements(s *Set, elems ...Element) {
	b.elemOp("create", msgNewSetElem, netlink.Create|netlink.Excl, s, elems)
}

// DeleteElements deletes elements (like `nft delete element`); ranges are
// given as they were added.
func (b *Batch) DeleteElements(s *Set, elems ...Element) {
	b.elemOp("delete", msgDelSetElem, 0, s, elems)
}

// DestroyElements deletes elements that exist and ignores missing ones
// (like `nft destroy element`, Linux 6.3).
func (b *Batch) DestroyElements(s *Set, elems ...Element) {
	b.elemOp("destroy", msgDestroySetElem, 0, s, elems)
}
