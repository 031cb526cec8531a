package ipset

import (
	"context"
	"fmt"

	"github.com/mdlayher/netlink"
)

// encodeBatch validates every operation and turns the batch into netlink
// messages. Nothing is sent; the only I/O is reading the headers of sets
// the batch adds to or deletes from without creating them, and the type
// revisions of sets it creates.
func (c *Conn) encodeBatch(ctx context.Context, b *Batch) ([]chunk, error) {
	known := map[string]*Set{} // sets as the batch will have left them
	var chunks []chunk
	lookup := func(name string) (*Set, error) {
		if s, ok := known[name]; ok {
			if s == nil {
				return nil, fmt.Errorf("set %s: %w (destroyed earlier in the batch)", name, ErrSetNotFound)
			}
			return s, nil
		}
		s, err := c.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		known[name] = &s
		return &s, nil
	}
	for i := range b.ops {
		o := &b.ops[i]
		fail := func(err error) ([]chunk, error) {
			return nil, fmt.Errorf("ipset batch operation %d (%s %s): %w", i, o.verb(), o.name, err)
		}
		switch o.code {
		case opCreate:
			s := o.set
			ti, rev, err := c.prepareCreate(ctx, &s)
			if err != nil {
				return fail(err)
			}
			w := c.encodeCreate(&s, ti, rev)
			chunks = append(chunks, chunk{op: i, msg: c.message(cmdCreate, createFlags(o.exist), w.Buf), setKind: ti.kind})
			s.Family = ti.effectiveFamily(s.Family)
			known[s.Name] = &s
		case opDestroy, opFlush:
			if err := validateName("name", o.name); err != nil {
				return fail(err)
			}
			w := c.newAttrs(48)
			w.String(attrSetName, o.name)
			cmd, flags := cmdFlush, netlink.HeaderFlags(0)
			if o.code == opDestroy {
				// NLM_F_EXCL: a missing set is an error, as for the CLI.
				cmd, flags = cmdDestroy, netlink.Excl
				known[o.name] = nil
			}
			chunks = append(chunks, chunk{op: i, msg: c.message(cmd, flags, w.Buf)})
		case opRename, opSwap:
			if err := validateName("from", o.name); err != nil {
				return fail(err)
			}
			if err := validateName("to", o.name2); err != nil {
				return fail(err)
			}
			w := c.newAttrs(80)
			w.String(attrSetName, o.name)
			w.String(attrSetName2, o.name2)
			cmd := cmdRename
			if o.code == opSwap {
				cmd = cmdSwap
			}
			a, aok := known[o.name]
			z, zok := known[o.name2]
			if o.code == opRename {
				delete(known, o.name)
				if aok && a != nil {
					s := *a
					s.Name = o.name2
					known[o.name2] = &s
				} else {
					delete(known, o.name2)
				}
			} else {
				delete(known, o.name)
				delete(known, o.name2)
				if aok && a != nil {
					s := *a
					s.Name = o.name2
					known[o.name2] = &s
				}
				if zok && z != nil {
					s := *z
					s.Name = o.name
					known[o.name] = &s
				}
			}
			chunks = append(chunks, chunk{op: i, msg: c.message(cmd, 0, w.Buf)})
		case opAddEntries, opDelEntries:
			if err := validateName("set", o.name); err != nil {
				return fail(err)
			}
			s, err := lookup(o.name)
			if err != nil {
				return fail(err)
			}
			ti, ok := lookupType(s.Type)
			if !ok {
				return fail(fmt.Errorf("%w: set %s has type %q, unknown to nfkit", ErrInvalid, s.Name, s.Type))
			}
			for j := range o.entries {
				if err := validateEntry(ti, s.Family, s, &o.entries[j]); err != nil {
					return fail(fmt.Errorf("entry %d: %w", j, err))
				}
			}
			cmd := cmdAdd
			if o.code == opDelEntries {
				cmd = cmdDel
			}
			flags := netlink.Excl
			if o.exist {
				flags = 0
			}
			chunks = c.appendEntryChunks(chunks, i, cmd, flags, o.name, o.entries, ti)
		}
	}
	return chunks, nil
}

// appendEntryChunks packs entries into as few ADD/DEL messages as the
// 16-bit IPSET_ATTR_ADT length allows. Each entry carries its line number
// (1-based within its message) and the message carries IPSET_ATTR_LINENO,
// which asks the kernel to report the failing entry's line.
func (c *Conn) appendEntryChunks(chunks []chunk, op int, cmd command, flags netlink.HeaderFlags, name string, entries []Entry, ti *typeInfo) []chunk {
	from := 0
	for from < len(entries) {
		w := c.newAttrs(4096)
		w.String(attrSetName, name)
		w.u32(attrLineNo, 0)
		adt := w.begin(attrADT)
		to := from
		for to < len(entries) {
			mark := len(w.Buf)
			d := w.begin(attrData)
			entries[to].appendEntryData(w, uint32(to-from+1), ti.defaultProto())
			w.End(d)
			if len(w.Buf)-adt > maxADT && to > from {
				w.Buf = w.Buf[:mark]
				break
			}
			to++
		}
		w.End(adt)
		chunks = append(chunks, chunk{op: op, from: from, to: to, msg: c.message(cmd, flags, w.Buf), setKind: ti.kind, withLineNo: true})
		from = to
	}
	return chunks
}
