package conntrack

import (
	"context"
	"errors"
	"io/fs"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// validateWrite checks a flow before create (create=true) or update.
func (f *Flow) validateWrite(create bool) error {
	if err := f.Origin.validate("Flow.Origin"); err != nil {
		return err
	}
	if f.Reply.Src.IsValid() || f.Reply.Dst.IsValid() {
		if err := f.Reply.validate("Flow.Reply"); err != nil {
			return err
		}
		if f.Reply.Family() != f.Origin.Family() {
			return invalid("Flow.Reply.Src", f.Reply.Src, "family differs from Origin "+f.Origin.Family().String())
		}
		if f.Reply.Proto != f.Origin.Proto {
			return invalid("Flow.Reply.Proto", f.Reply.Proto, "differs from Origin.Proto "+f.Origin.Proto.String())
		}
	}
	if create && f.Timeout == 0 {
		return invalid("Flow.Timeout", f.Timeout, "a new flow needs a timeout in seconds")
	}
	if f.TCP != nil && f.Origin.Proto != ProtoTCP {
		return invalid("Flow.TCP", f.Origin.Proto, "TCP state on a non-TCP flow")
	}
	if f.SCTP != nil && f.Origin.Proto != ProtoSCTP {
		return invalid("Flow.SCTP", f.Origin.Proto, "SCTP state on a non-SCTP flow")
	}
	if f.DCCP != nil && f.Origin.Proto != ProtoDCCP {
		return invalid("Flow.DCCP", f.Origin.Proto, "DCCP state on a non-DCCP flow")
	}
	if len(f.Labels) > 16 {
		return invalid("Flow.Labels", len(f.Labels), "at most 16 bytes (128 labels)")
	}
	if f.LabelsMask != nil && len(f.LabelsMask) != len(f.Labels) {
		return invalid("Flow.LabelsMask", len(f.LabelsMask), "must be as long as Labels")
	}
	for _, n := range []struct {
		name string
		nat  *NAT
	}{{"Flow.NATSrc", f.NATSrc}, {"Flow.NATDst", f.NATDst}} {
		if n.nat == nil {
			continue
		}
		if !create {
			return invalid(n.name, "set", "NAT cannot be changed on an existing flow")
		}
		for _, a := range []netipAddrField{{".MinIP", n.nat.MinIP}, {".MaxIP", n.nat.MaxIP}} {
			if a.addr.IsValid() && familyOf(a.addr) != f.Origin.Family() {
				return invalid(n.name+a.field, a.addr, "NAT address family differs from the flow's")
			}
		}
	}
	return nil
}

func (f *Flow) writeMessage(create bool) (netlink.Message, error) {
	if err := f.validateWrite(create); err != nil {
		return netlink.Message{}, err
	}
	mode, flags := encodeUpdate, netlink.HeaderFlags(0)
	if create {
		mode, flags = encodeCreate, netlink.Create|netlink.Excl
	}
	b, err := f.marshal(mode)
	if err != nil {
		return netlink.Message{}, err
	}
	return request(unix.NFNL_SUBSYS_CTNETLINK, ctMsgNew, flags, f.Origin.Family(), b), nil
}

// Create adds a flow that does not exist yet, like `conntrack -I`. The
// Origin tuple and Timeout are required; an empty Reply is taken as the
// reverse of Origin (no NAT). An existing flow is an error matching
// fs.ErrExist.
func (c *Conn) Create(ctx context.Context, f Flow) error {
	m, err := f.writeMessage(true)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, m, "create flow", f.Origin.String())
	return err
}

// Update changes an existing flow, found by its Origin tuple and zone, like
// `conntrack -U`. It writes Mark always, and Timeout, Status (bits can
// only be added), protocol info, helper, labels, sequence adjustments and
// synproxy state when set. A missing flow is an error matching
// fs.ErrNotExist.
func (c *Conn) Update(ctx context.Context, f Flow) error {
	m, err := f.writeMessage(false)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, m, "update flow", f.Origin.String())
	return err
}

// Delete removes one flow, found by key's tuple (Origin, or Reply if Origin
// is empty), zone and, when key.ID is set, id, like `conntrack -D` with a
// full tuple. A missing flow is an error matching fs.ErrNotExist.
func (c *Conn) Delete(ctx context.Context, key Flow) error {
	m, err := key.keyMessage(ctMsgDelete)
	if err != nil {
		return err
	}
	t, _, _ := key.key()
	_, err = c.execute(ctx, m, "delete flow", t.String())
	return err
}

// deleteChunk is how many deletes go into one pipeline while the dump
// that selects them waits.
const deleteChunk = 1024

// DeleteMatching deletes every flow that matches filter, like
// `conntrack -D` with the same options, and returns how many it deleted.
//
// The kernel evaluates the filter during a dump (see Filter) and the
// selected flows are deleted by id, many deletes per system call, on a
// second socket while the dump streams: memory stays flat, the count is
// exact, and a flow that was replaced meanwhile by another with the same
// tuple is left alone. Flows that disappeared on their own before their
// delete arrived are not counted and are not an error. This was measured
// faster than the kernel's filtered flush (see FlushMatching), which
// cannot report a count.
func (c *Conn) DeleteMatching(ctx context.Context, filter Filter) (int, error) {
	if err := filter.validate(); err != nil {
		return 0, err
	}
	aux, err := c.auxConn()
	if err != nil {
		return 0, err
	}
	var (
		n     int
		errs  []error
		chunk = make([]netlink.Message, 0, deleteChunk)
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		replies, err := aux.Pipeline(ctx, chunk, false)
		for _, r := range replies {
			switch {
			case r.Err == nil:
				n++
			case errors.Is(r.Err, fs.ErrNotExist):
			case errors.Is(r.Err, nlconn.ErrNotSent):
			default:
				if len(errs) < 8 {
					errs = append(errs, withContext(r.Err, "delete flow", ""))
				}
			}
		}
		chunk = chunk[:0]
		return err
	}
	for f, err := range c.All(ctx, filter) {
		if err != nil {
			errs = append(errs, err)
			break
		}
		f.Reply = Tuple{}
		m, err := f.keyMessage(ctMsgDelete)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		chunk = append(chunk, m)
		if len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return n, errors.Join(append(errs, err)...)
			}
		}
	}
	if err := flush(); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// Flush deletes every flow of family (0 for all), like `conntrack -F`
// (with -f for one family), in one kernel operation. The count is the
// change of the global entry count around the flush: exact on a quiet
// table, approximate while other flows come and go.
func (c *Conn) Flush(ctx context.Context, family Family) (int, error) {
	return c.FlushMatching(ctx, Filter{Family: family})
}

// FlushMatching deletes the flows that match filter in one kernel
// operation (a filtered IPCTNL_MSG_CT_DELETE: mark and status since Linux
// 5.x, tuple fields and zone through CTA_FILTER since 6.12). Only filters
// the kernel evaluates exactly are accepted (no Match function, no
// zone 0, ports only for TCP and UDP...); anything else is an ErrInvalid
// error, use DeleteMatching. The count is approximate, as for Flush.
func (c *Conn) FlushMatching(ctx context.Context, filter Filter) (int, error) {
	if err := filter.validate(); err != nil {
		return 0, err
	}
	reqs, exact, err := filter.kernelRequests(ctMsgDelete)
	if err != nil {
		return 0, err
	}
	if !exact {
		return 0, invalid("Filter", "(filter)", "the kernel cannot evaluate this filter exactly; use DeleteMatching")
	}
	before, err := c.Count(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range reqs {
		if _, err := c.execute(ctx, m, "flush flows", ""); err != nil {
			return 0, err
		}
	}
	after, err := c.Count(ctx)
	if err != nil {
		return 0, err
	}
	if after > before {
		return 0, nil
	}
	return before - after, nil
}
