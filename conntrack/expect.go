package conntrack

import (
	"context"
	"iter"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
)

// Expectation is a connection a helper (FTP, SIP...) expects to see, tied
// to its master flow.
type Expectation struct {
	Master Tuple // origin tuple of the master flow
	Tuple  Tuple // the expected connection
	// Mask selects which bits of Tuple must match: all-ones addresses and
	// ports for an exact match, 0 for a wildcard. A zero Mask given to
	// CreateExpectation means an exact match on everything.
	Mask    Tuple
	Timeout uint32 // seconds
	ID      uint32
	Helper  string // helper that created it / that will handle it
	Zone    uint16
	Flags   ExpectFlags
	Class   uint32
	NAT     *ExpectNAT
	Fn      string // NAT helper function name (CTA_EXPECT_FN), read only
	Unknown []Attr
}

// ExpectFlags are the NF_CT_EXPECT_* flags.
type ExpectFlags uint32

// Expectation flags.
const (
	ExpectPermanent ExpectFlags = 0x1 // NF_CT_EXPECT_PERMANENT
	ExpectInactive  ExpectFlags = 0x2 // NF_CT_EXPECT_INACTIVE
	ExpectUserspace ExpectFlags = 0x4 // NF_CT_EXPECT_USERSPACE
)

// ExpectNAT is the NAT the expected connection gets (CTA_EXPECT_NAT).
type ExpectNAT struct {
	Dir     uint32 // 0 original, 1 reply
	Tuple   Tuple
	Unknown []Attr
}

func (e *Expectation) mask() Tuple {
	m := e.Mask
	if m.Src.IsValid() || m.Dst.IsValid() || m.SrcPort != 0 || m.DstPort != 0 {
		if m.Proto == 0 {
			m.Proto = e.Tuple.Proto
		}
		return m
	}
	ones := func(a netip.Addr) netip.Addr {
		if a.Is4() {
			return netip.AddrFrom4([4]byte{255, 255, 255, 255})
		}
		var b [16]byte
		for i := range b {
			b[i] = 0xff
		}
		return netip.AddrFrom16(b)
	}
	m = Tuple{Src: ones(e.Tuple.Src), Dst: ones(e.Tuple.Dst), Proto: e.Tuple.Proto}
	if e.Tuple.Proto.hasPorts() {
		m.SrcPort, m.DstPort = 0xffff, 0xffff
	}
	if e.Tuple.Proto.isICMP() {
		m.ICMPID, m.ICMPType, m.ICMPCode = 0xffff, 0xff, 0xff
	}
	return m
}

func (e *Expectation) encode(ae *netlink.AttributeEncoder, full bool) {
	nest(ae, ctaExpectMaster, e.Master.marshal)
	nest(ae, ctaExpectTuple, e.Tuple.marshal)
	mask := e.Mask
	if !full {
		mask = e.mask()
	}
	nest(ae, ctaExpectMask, mask.marshal)
	ae.Uint32(ctaExpectTimeout, e.Timeout)
	if full {
		ae.Uint32(ctaExpectID, e.ID)
	}
	if e.Helper != "" {
		ae.String(ctaExpectHelpName, e.Helper)
	}
	if e.Zone != 0 {
		ae.Uint16(ctaExpectZone, e.Zone)
	}
	if e.Flags != 0 || full {
		ae.Uint32(ctaExpectFlags, uint32(e.Flags))
	}
	if e.Class != 0 || full {
		ae.Uint32(ctaExpectClass, e.Class)
	}
	if e.NAT != nil {
		nest(ae, ctaExpectNAT, func(n *netlink.AttributeEncoder) {
			n.Uint32(ctaExpectNATDir, e.NAT.Dir)
			nest(n, ctaExpectNATTuple, e.NAT.Tuple.marshal)
			putUnknown(n, e.NAT.Unknown)
		})
	}
	if full && e.Fn != "" {
		ae.String(ctaExpectFn, e.Fn)
	}
	putUnknown(ae, e.Unknown)
}

func (e *Expectation) unmarshal(b []byte) error {
	w := newWalker(b)
	for w.Next() {
		switch w.Kind() {
		case ctaExpectMaster:
			unmarshalTuple(&w, &e.Master)
		case ctaExpectTuple:
			unmarshalTuple(&w, &e.Tuple)
		case ctaExpectMask:
			unmarshalTuple(&w, &e.Mask)
		case ctaExpectTimeout:
			e.Timeout = w.u32("CTA_EXPECT_TIMEOUT")
		case ctaExpectID:
			e.ID = w.u32("CTA_EXPECT_ID")
		case ctaExpectHelpName:
			e.Helper = attr.CString(w.Data())
		case ctaExpectZone:
			e.Zone = w.u16("CTA_EXPECT_ZONE")
		case ctaExpectFlags:
			e.Flags = ExpectFlags(w.u32("CTA_EXPECT_FLAGS"))
		case ctaExpectClass:
			e.Class = w.u32("CTA_EXPECT_CLASS")
		case ctaExpectNAT:
			e.NAT = new(ExpectNAT)
			n := w.child()
			for n.Next() {
				switch n.Kind() {
				case ctaExpectNATDir:
					e.NAT.Dir = n.u32("CTA_EXPECT_NAT_DIR")
				case ctaExpectNATTuple:
					unmarshalTuple(&n, &e.NAT.Tuple)
				default:
					e.NAT.Unknown = append(e.NAT.Unknown, n.raw())
				}
			}
			w.join(&n)
		case ctaExpectFn:
			e.Fn = attr.CString(w.Data())
		default:
			e.Unknown = append(e.Unknown, w.raw())
		}
	}
	return w.err()
}

func (e *Expectation) validate() error {
	if err := e.Master.validate("Expectation.Master"); err != nil {
		return err
	}
	if err := e.Tuple.validate("Expectation.Tuple"); err != nil {
		return err
	}
	if e.Tuple.Family() != e.Master.Family() {
		return invalid("Expectation.Tuple.Src", e.Tuple.Src, "family differs from the master's")
	}
	m := e.mask()
	for _, a := range []netipAddrField{{".Src", m.Src}, {".Dst", m.Dst}} {
		if a.addr.IsValid() && familyOf(a.addr) != e.Tuple.Family() {
			return invalid("Expectation.Mask"+a.field, a.addr, "mask family differs from the tuple's")
		}
	}
	if e.Timeout == 0 {
		return invalid("Expectation.Timeout", e.Timeout, "an expectation needs a timeout in seconds")
	}
	return nil
}

func (e *Expectation) createMessage() (netlink.Message, error) {
	if err := e.validate(); err != nil {
		return netlink.Message{}, err
	}
	ae := attr.NewEncoder()
	e.encode(ae, false)
	b, err := ae.Encode()
	if err != nil {
		return netlink.Message{}, err
	}
	return request(unix.NFNL_SUBSYS_CTNETLINK_EXP, expMsgNew, netlink.Create|netlink.Excl, e.Tuple.Family(), b), nil
}

func (e *Expectation) keyMessage(cmd uint8) (netlink.Message, error) {
	if err := e.Tuple.validate("Expectation.Tuple"); err != nil {
		return netlink.Message{}, err
	}
	ae := attr.NewEncoder()
	nest(ae, ctaExpectTuple, e.Tuple.marshal)
	if e.Zone != 0 {
		ae.Uint16(ctaExpectZone, e.Zone)
	}
	if e.ID != 0 && cmd == expMsgDelete {
		ae.Uint32(ctaExpectID, e.ID)
	}
	b, err := ae.Encode()
	if err != nil {
		return netlink.Message{}, err
	}
	return request(unix.NFNL_SUBSYS_CTNETLINK_EXP, cmd, 0, e.Tuple.Family(), b), nil
}

func unmarshalExpectationMessage(m netlink.Message) (Expectation, error) {
	_, b, err := nfnl.Unmarshal(m.Data)
	if err != nil {
		return Expectation{}, err
	}
	var e Expectation
	err = e.unmarshal(b)
	return e, err
}

// AllExpectations streams the expectations of family (0 for all), like
// `conntrack -L expect`.
func (c *Conn) AllExpectations(ctx context.Context, family Family) iter.Seq2[Expectation, error] {
	return func(yield func(Expectation, error) bool) {
		req := request(unix.NFNL_SUBSYS_CTNETLINK_EXP, expMsgGet, 0, family, nil)
		for m, err := range c.nl.Dump(ctx, req) {
			if err != nil {
				yield(Expectation{}, withContext(err, "list expectations", ""))
				return
			}
			e, err := unmarshalExpectationMessage(m)
			if !yield(e, err) {
				return
			}
		}
	}
}

// ListExpectations collects AllExpectations.
func (c *Conn) ListExpectations(ctx context.Context, family Family) ([]Expectation, error) {
	var out []Expectation
	for e, err := range c.AllExpectations(ctx, family) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// GetExpectation returns the expectation with e's Tuple (and Zone), like
// `conntrack -G expect`.
func (c *Conn) GetExpectation(ctx context.Context, e Expectation) (Expectation, error) {
	m, err := e.keyMessage(expMsgGet)
	if err != nil {
		return Expectation{}, err
	}
	replies, err := c.execute(ctx, m, "get expectation", e.Tuple.String())
	if err != nil {
		return Expectation{}, err
	}
	for _, r := range replies {
		return unmarshalExpectationMessage(r)
	}
	return Expectation{}, withContext(&Error{Index: -1, Errno: unix.ENOENT}, "get expectation", e.Tuple.String())
}

// CreateExpectation adds an expectation, like `conntrack -I expect`. The
// master flow must exist and have a helper (else EOPNOTSUPP).
func (c *Conn) CreateExpectation(ctx context.Context, e Expectation) error {
	m, err := e.createMessage()
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, m, "create expectation", e.Tuple.String())
	return err
}

// DeleteExpectation removes the expectation with e's Tuple (and ID when
// set), like `conntrack -D expect`.
func (c *Conn) DeleteExpectation(ctx context.Context, e Expectation) error {
	m, err := e.keyMessage(expMsgDelete)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, m, "delete expectation", e.Tuple.String())
	return err
}

// FlushExpectations removes every expectation of family (0 for all), like
// `conntrack -F expect`.
func (c *Conn) FlushExpectations(ctx context.Context, family Family) error {
	m := request(unix.NFNL_SUBSYS_CTNETLINK_EXP, expMsgDelete, 0, family, nil)
	_, err := c.execute(ctx, m, "flush expectations", "")
	return err
}
