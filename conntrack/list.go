package conntrack

import (
	"context"
	"iter"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// All streams the flows that match filter, like `conntrack -L` with the
// same options. The filter is evaluated by the kernel as far as it can
// (see Filter) and completed in Go. Memory stays bounded by one netlink
// datagram whatever the table size; each Flow owns its data (its optional
// parts, such as TCP, are carved from blocks shared by 64 flows of the same
// dump, so a Flow kept from a dump keeps its blocks alive). An error ends
// the stream unless it is a decoding error for one entry, which is yielded
// and skipped. Breaking out of the loop stops the dump.
func (c *Conn) All(ctx context.Context, filter Filter) iter.Seq2[Flow, error] {
	return c.dump(ctx, ctMsgGet, filter, "list flows")
}

// List collects All into a slice.
func (c *Conn) List(ctx context.Context, filter Filter) ([]Flow, error) {
	var out []Flow
	for f, err := range c.All(ctx, filter) {
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

// AllDying streams the flows on the dying list: deleted, but still held by
// packets in flight or waiting for their destroy event to be delivered
// (`conntrack -L dying`, Linux 3.10; the list is empty unless events are
// being delivered reliably).
func (c *Conn) AllDying(ctx context.Context) iter.Seq2[Flow, error] {
	return c.dump(ctx, ctMsgGetDying, Filter{}, "list dying flows")
}

// AllUnconfirmed streams the flows not yet confirmed (first packet still
// traversing the stack; `conntrack -L unconfirmed`).
func (c *Conn) AllUnconfirmed(ctx context.Context) iter.Seq2[Flow, error] {
	return c.dump(ctx, ctMsgGetUnconfirmed, Filter{}, "list unconfirmed flows")
}

func (c *Conn) dump(ctx context.Context, cmd uint8, filter Filter, op string) iter.Seq2[Flow, error] {
	return func(yield func(Flow, error) bool) {
		if err := filter.validate(); err != nil {
			yield(Flow{}, err)
			return
		}
		reqs := []netlink.Message{request(unix.NFNL_SUBSYS_CTNETLINK, cmd, 0, FamilyAny, nil)}
		if cmd == ctMsgGet {
			var err error
			if reqs, _, err = filter.kernelRequests(cmd); err != nil {
				yield(Flow{}, err)
				return
			}
		}
		for _, req := range reqs {
			if !c.dumpOne(ctx, req, &filter, op, yield) {
				return
			}
		}
	}
}

// dumpOne streams one dump request; it returns false when the consumer
// stopped or the dump failed.
func (c *Conn) dumpOne(ctx context.Context, req netlink.Message, filter *Filter, op string, yield func(Flow, error) bool) bool {
	var fa flowAlloc
	for m, err := range c.nl.Dump(ctx, req) {
		if err != nil {
			yield(Flow{}, withContext(err, op, ""))
			return false
		}
		f, err := unmarshalFlowMessage(m, &fa)
		if err != nil {
			if !yield(Flow{}, err) {
				return false
			}
			continue
		}
		if !filter.Matches(&f) {
			continue
		}
		if !yield(f, nil) {
			return false
		}
	}
	return true
}

// key returns the tuple that identifies f and which attribute carries it:
// Origin if it has addresses, else Reply.
func (f *Flow) key() (Tuple, uint16, string) {
	if f.Origin.Src.IsValid() || f.Origin.Dst.IsValid() || f.Origin.Proto != 0 {
		return f.Origin, ctaTupleOrig, "Origin"
	}
	return f.Reply, ctaTupleReply, "Reply"
}

// keyMessage builds a GET or DELETE for one flow: its tuple (Origin, or
// Reply when Origin is empty), zone and, when set, id, so a delete never
// removes a newer flow that reused the tuple.
func (f *Flow) keyMessage(cmd uint8) (netlink.Message, error) {
	t, typ, name := f.key()
	if err := t.validate("Flow." + name); err != nil {
		return netlink.Message{}, err
	}
	ae := newEncoder()
	nest(ae, typ, t.marshal)
	if f.Zone != 0 {
		ae.Uint16(ctaZone, f.Zone)
	}
	if f.ID != 0 && cmd == ctMsgDelete {
		ae.Uint32(ctaID, f.ID)
	}
	b, err := ae.Encode()
	if err != nil {
		return netlink.Message{}, err
	}
	return request(unix.NFNL_SUBSYS_CTNETLINK, cmd, 0, t.Family(), b), nil
}

// Get returns the flow with key's tuple (Origin, or Reply if Origin is
// empty) in key's zone, like `conntrack -G`. A missing flow is an error
// matching fs.ErrNotExist.
func (c *Conn) Get(ctx context.Context, key Flow) (Flow, error) {
	m, err := key.keyMessage(ctMsgGet)
	if err != nil {
		return Flow{}, err
	}
	t, _, _ := key.key()
	replies, err := c.execute(ctx, m, "get flow", t.String())
	if err != nil {
		return Flow{}, err
	}
	for _, r := range replies {
		return unmarshalFlowMessage(r, nil)
	}
	return Flow{}, withContext(&Error{Index: -1, Errno: unix.ENOENT}, "get flow", t.String())
}
