package ipset

import (
	"context"
	"fmt"
	"iter"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
)

// ListOptions selects what a listing returns.
type ListOptions struct {
	// Name lists one set; "" lists all.
	Name string
}

// listMsg is one decoded IPSET_CMD_LIST reply. A set's listing spans
// several messages: the first carries the header (type, family, revision,
// create data), the following ones only the name and more entries.
type listMsg struct {
	name   string
	header bool // the message starts a set: set below is filled in
	set    Set
	adt    []byte // the IPSET_ATTR_ADT nest content, if any
}

// decodeListMsg decodes one list/save reply payload (after nfgenmsg).
func decodeListMsg(b []byte) (listMsg, error) {
	var m listMsg
	it := attr.NewIter(b)
	for it.Next() {
		switch it.Kind() {
		case attrSetName:
			m.name = attr.CString(it.Data())
		case attrTypeName:
			m.set.Type = SetType(attr.CString(it.Data()))
			m.header = true
		case attrRevision:
			v, err := uintAttr(&it)
			if err != nil {
				return m, err
			}
			m.set.Revision = uint8(v)
			m.header = true
		case attrFamily:
			v, err := uintAttr(&it)
			if err != nil {
				return m, err
			}
			m.set.Family = Family(v)
			m.header = true
		case attrData:
			if err := m.set.unmarshalCreateData(it.Data()); err != nil {
				return m, err
			}
			m.header = true
		case attrADT:
			m.adt = it.Data()
		}
	}
	if err := walkErr(&it); err != nil {
		return m, err
	}
	if m.name == "" {
		return m, fmt.Errorf("ipset: list reply without a set name")
	}
	m.set.Name = m.name
	return m, nil
}

// forEachEntry decodes the DATA nests of an ADT nest.
func forEachEntry(adt []byte, fn func(Entry) bool) error {
	it := attr.NewIter(adt)
	for it.Next() {
		if it.Kind() != attrData {
			continue
		}
		e, err := unmarshalEntry(it.Data())
		if err != nil {
			return err
		}
		if !fn(e) {
			return nil
		}
	}
	return walkErr(&it)
}

// dump streams the kernel's list replies for name ("" = all sets).
func (c *Conn) dump(ctx context.Context, name string, headersOnly bool) iter.Seq2[listMsg, error] {
	return func(yield func(listMsg, error) bool) {
		if name != "" {
			if err := validateName("name", name); err != nil {
				yield(listMsg{}, err)
				return
			}
		}
		for m, err := range c.nl.Dump(ctx, c.listRequest(name, headersOnly)) {
			if err != nil {
				yield(listMsg{}, wrap(err, "list sets", name, opOther, 0))
				return
			}
			lm, err := decodeReply(m)
			if err != nil {
				yield(listMsg{}, err)
				return
			}
			if !yield(lm, nil) {
				return
			}
		}
	}
}

// listRequest is IPSET_CMD_LIST for one set or all, headers only or with
// entries (IPSET_FLAG_LIST_HEADER, as `ipset list -t`).
func (c *Conn) listRequest(name string, headersOnly bool) netlink.Message {
	w := c.newAttrs(48)
	if name != "" {
		w.String(attrSetName, name)
	}
	if headersOnly {
		w.u32(attrFlags, flagListHeader)
	}
	return c.message(cmdList, 0, w.Buf)
}

func decodeReply(m netlink.Message) (listMsg, error) {
	_, attrs, err := nfnl.Unmarshal(m.Data)
	if err != nil {
		return listMsg{}, err
	}
	return decodeListMsg(attrs)
}

// All streams set headers (type, options, entry count, references), like
// `ipset list -t`.
func (c *Conn) All(ctx context.Context, opts ListOptions) iter.Seq2[Set, error] {
	return func(yield func(Set, error) bool) {
		for m, err := range c.dump(ctx, opts.Name, true) {
			if err != nil {
				yield(Set{}, err)
				return
			}
			if m.header && !yield(m.set, nil) {
				return
			}
		}
	}
}

// ListSets collects All.
func (c *Conn) ListSets(ctx context.Context, opts ListOptions) ([]Set, error) {
	var out []Set
	for s, err := range c.All(ctx, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Get returns one set's header; a missing set is ErrSetNotFound
// (fs.ErrNotExist). Like `ipset list -t NAME`.
func (c *Conn) Get(ctx context.Context, name string) (Set, error) {
	for s, err := range c.All(ctx, ListOptions{Name: name}) {
		return s, err
	}
	return Set{}, fmt.Errorf("get set %s: %w", name, ErrSetNotFound)
}

// Record is one item of a full listing: a set's header (Header true, Entry
// empty), then one record per entry of that set. Set points to the same
// header for all records of a set.
type Record struct {
	Set    *Set
	Header bool
	Entry  Entry
}

// Dump streams sets with their entries, each set's header first, with
// memory bounded by one netlink datagram. Like `ipset list` / `ipset save`
// (name "" lists every set).
func (c *Conn) Dump(ctx context.Context, name string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var cur *Set
		for m, err := range c.dump(ctx, name, false) {
			if err != nil {
				yield(Record{}, err)
				return
			}
			if m.header || cur == nil || cur.Name != m.name {
				s := m.set
				cur = &s
				if !yield(Record{Set: cur, Header: true}, nil) {
					return
				}
			}
			stop := false
			if err := forEachEntry(m.adt, func(e Entry) bool {
				stop = !yield(Record{Set: cur, Entry: e}, nil)
				return !stop
			}); err != nil {
				yield(Record{}, err)
				return
			}
			if stop {
				return
			}
		}
	}
}

// Entries streams the entries of one set. Like `ipset list NAME`.
func (c *Conn) Entries(ctx context.Context, name string) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		if err := validateName("name", name); err != nil {
			yield(Entry{}, err)
			return
		}
		for r, err := range c.Dump(ctx, name) {
			if err != nil {
				yield(Entry{}, err)
				return
			}
			if !r.Header && !yield(r.Entry, nil) {
				return
			}
		}
	}
}

// SetEntries is a set with its entries: what ParseSave returns, WriteSave
// prints and List collects.
type SetEntries struct {
	Set     Set
	Entries []Entry
}

// List collects Dump: every set (or the one named) with its entries.
func (c *Conn) List(ctx context.Context, name string) ([]SetEntries, error) {
	var out []SetEntries
	for r, err := range c.Dump(ctx, name) {
		if err != nil {
			return out, err
		}
		if r.Header {
			out = append(out, SetEntries{Set: *r.Set})
			continue
		}
		last := &out[len(out)-1]
		last.Entries = append(last.Entries, r.Entry)
	}
	return out, nil
}
