package conntrack

import (
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// Filter selects flows. The zero Filter matches every flow. Every set field
// must match. As much of it as the kernel understands is sent with the
// request, so the kernel skips non-matching flows before they are copied
// to user space; the whole filter is then applied again in Go, so results
// are the same on every kernel (older kernels ignore what they do not know).
type Filter struct {
	// Family restricts to IPv4 or IPv6 flows (like conntrack -f). When 0
	// and a tuple filter has addresses, their family is used.
	Family Family
	// Mark and MarkMask match flows whose mark&MarkMask == Mark (like
	// conntrack -m MARK/MASK). MarkMask 0 with Mark != 0 means an exact
	// match; to select mark 0 set MarkMask to 0xffffffff.
	Mark, MarkMask uint32
	// MatchZone selects the flows of Zone (like conntrack -w), including
	// flows whose zone applies to one direction.
	MatchZone bool
	Zone      uint16
	// Status and StatusMask match flows whose status&StatusMask == Status
	// (like conntrack -u). StatusMask 0 means Status itself.
	Status, StatusMask Status
	// Origin and Reply match the tuple of each direction (like conntrack
	// -s/-d/-p/--sport/--dport and --reply-src/...).
	Origin, Reply *TupleFilter
	// Match, if set, is called last, in Go, for flows that passed
	// everything else.
	Match func(*Flow) bool
}

// TupleFilter matches the fields of a tuple that are set. Ports and ICMP
// fields need Proto.
type TupleFilter struct {
	Src, Dst         netip.Addr // invalid (zero) means any
	Proto            Proto      // 0 means any
	SrcPort, DstPort uint16     // 0 means any
	ICMPType         *uint8
	ICMPCode         *uint8
	ICMPID           *uint16
}

// U8 and U16 return pointers for the optional ICMP fields of a TupleFilter.
func U8(v uint8) *uint8    { return &v }
func U16(v uint16) *uint16 { return &v }

// family is the filter's effective family: explicit, or from an address.
func (f *Filter) family() Family {
	if f.Family != FamilyAny {
		return f.Family
	}
	for _, t := range []*TupleFilter{f.Origin, f.Reply} {
		if t == nil {
			continue
		}
		if fam := familyOf(t.Src); fam != FamilyAny {
			return fam
		}
		if fam := familyOf(t.Dst); fam != FamilyAny {
			return fam
		}
	}
	for _, t := range []*TupleFilter{f.Origin, f.Reply} {
		switch {
		case t == nil:
		case t.Proto == ProtoICMP:
			return IPv4
		case t.Proto == ProtoICMPv6:
			return IPv6
		}
	}
	return FamilyAny
}

func (f *Filter) markMask() uint32 {
	if f.MarkMask == 0 && f.Mark != 0 {
		return ^uint32(0)
	}
	return f.MarkMask
}

func (f *Filter) statusMask() Status {
	if f.StatusMask == 0 {
		return f.Status
	}
	return f.StatusMask
}

// validate rejects filters that are contradictory or could never match,
// naming the field, before anything is sent.
func (f *Filter) validate() error {
	switch f.Family {
	case FamilyAny, IPv4, IPv6:
	default:
		return invalid("Filter.Family", f.Family, "want IPv4, IPv6 or 0")
	}
	if f.Mark&^f.markMask() != 0 {
		return invalid("Filter.Mark", f.Mark, "has bits outside MarkMask; no flow could match")
	}
	if f.Status&^f.statusMask() != 0 {
		return invalid("Filter.Status", f.Status, "has bits outside StatusMask; no flow could match")
	}
	fam := f.family()
	for _, d := range []struct {
		name string
		t    *TupleFilter
	}{{"Filter.Origin", f.Origin}, {"Filter.Reply", f.Reply}} {
		if d.t == nil {
			continue
		}
		if err := d.t.validate(d.name, fam); err != nil {
			return err
		}
	}
	return nil
}

func (t *TupleFilter) validate(name string, fam Family) error {
	for _, a := range []struct {
		field string
		addr  netip.Addr
	}{{".Src", t.Src}, {".Dst", t.Dst}} {
		if !a.addr.IsValid() {
			continue
		}
		if a.addr.Is4In6() {
			return invalid(name+a.field, a.addr, "IPv4-mapped IPv6 address; use the IPv4 form")
		}
		if fam != FamilyAny && familyOf(a.addr) != fam {
			return invalid(name+a.field, a.addr, "address is not "+fam.String()+" like the rest of the filter")
		}
	}
	icmp := t.ICMPType != nil || t.ICMPCode != nil || t.ICMPID != nil
	return checkProtoFields(name, t.Proto, fam, t.SrcPort, t.DstPort, icmp, false)
}

// match applies the filter to a tuple.
func (t *TupleFilter) match(u *Tuple) bool {
	switch {
	case t.Src.IsValid() && t.Src != u.Src,
		t.Dst.IsValid() && t.Dst != u.Dst,
		t.Proto != 0 && t.Proto != u.Proto,
		t.SrcPort != 0 && t.SrcPort != u.SrcPort,
		t.DstPort != 0 && t.DstPort != u.DstPort,
		t.ICMPType != nil && *t.ICMPType != u.ICMPType,
		t.ICMPCode != nil && *t.ICMPCode != u.ICMPCode,
		t.ICMPID != nil && *t.ICMPID != u.ICMPID:
		return false
	}
	return true
}

// zoneID is the flow's zone whatever its direction.
func (fl *Flow) zoneID() uint16 {
	switch {
	case fl.Zone != 0:
		return fl.Zone
	case fl.Origin.Zone != 0:
		return fl.Origin.Zone
	}
	return fl.Reply.Zone
}

// Matches reports whether fl passes the filter (the Go half of the filter,
// which is the whole filter).
func (f *Filter) Matches(fl *Flow) bool {
	if fam := f.family(); fam != FamilyAny && fl.Origin.Family() != fam {
		return false
	}
	if fl.Mark&f.markMask() != f.Mark {
		return false
	}
	if f.MatchZone && fl.zoneID() != f.Zone {
		return false
	}
	if fl.Status&f.statusMask() != f.Status {
		return false
	}
	if f.Origin != nil && !f.Origin.match(&fl.Origin) {
		return false
	}
	if f.Reply != nil && !f.Reply.match(&fl.Reply) {
		return false
	}
	if f.Match != nil {
		// A copy, so the caller's flow does not escape to the heap on
		// every call (the dump's hot path) just because Match might keep it.
		cp := *fl
		return f.Match(&cp)
	}
	return true
}

// kernelRequests builds the dump (cmd IPCTNL_MSG_CT_GET) or flush
// (IPCTNL_MSG_CT_DELETE) requests that carry what the kernel can evaluate:
// mark/mask, status/mask and, through CTA_FILTER (Linux 5.10 for dumps,
// 6.12 for flushes), zone and tuple fields. The kernel refuses tuple fields
// without a family, so a family-less filter becomes one request per family.
// exact reports whether the kernel's evaluation equals Matches, which a
// filtered flush needs (it cannot be re-checked in Go).
func (f *Filter) kernelRequests(cmd uint8) ([]netlink.Message, bool, error) {
	fams := []Family{f.family()}
	if fams[0] == FamilyAny {
		if o, _ := f.Origin.flags(FamilyAny); o != 0 {
			fams = []Family{IPv4, IPv6}
		} else if r, _ := f.Reply.flags(FamilyAny); r != 0 {
			fams = []Family{IPv4, IPv6}
		}
	}
	var msgs []netlink.Message
	exact := true
	for _, fam := range fams {
		b, ex, err := f.kernelAttrs(fam)
		if err != nil {
			return nil, false, err
		}
		exact = exact && ex
		m := request(unix.NFNL_SUBSYS_CTNETLINK, cmd, 0, fam, b)
		if cmd == ctMsgDelete {
			// Version 1 makes a flush honour the family (version 0
			// flushes every family, for old conntrack-tools).
			m.Data[1] = 1
		}
		msgs = append(msgs, m)
	}
	return msgs, exact, nil
}

// kernelAttrs encodes the kernel half of the filter for one family.
func (f *Filter) kernelAttrs(fam Family) (b []byte, exact bool, err error) {
	ae := attr.NewEncoder()
	exact = f.Match == nil
	if m := f.markMask(); m != 0 {
		ae.Uint32(ctaMark, f.Mark)
		ae.Uint32(ctaMarkMask, m)
	}
	if f.Status != 0 || f.StatusMask != 0 {
		ae.Uint32(ctaStatus, uint32(f.Status))
		ae.Uint32(ctaStatusMask, uint32(f.statusMask()))
	}
	origFlags, ok1 := f.Origin.flags(fam)
	replyFlags, ok2 := f.Reply.flags(fam)
	exact = exact && ok1 && ok2
	zone := f.MatchZone && f.Zone != 0
	if f.MatchZone && f.Zone == 0 {
		exact = false // the kernel reads zone 0 as "no zone filter"
	}
	if origFlags != 0 || replyFlags != 0 || zone {
		nest(ae, ctaFilter, func(n *netlink.AttributeEncoder) {
			n.Bytes(ctaFilterOrigFlags, hostU32(origFlags))
			n.Bytes(ctaFilterReplyFlags, hostU32(replyFlags))
		})
		if origFlags != 0 {
			nest(ae, ctaTupleOrig, func(n *netlink.AttributeEncoder) { f.Origin.encode(n, origFlags) })
		}
		if replyFlags != 0 {
			nest(ae, ctaTupleReply, func(n *netlink.AttributeEncoder) { f.Reply.encode(n, replyFlags) })
		}
		if zone {
			ae.Uint16(ctaZone, f.Zone)
		}
	}
	b, err = ae.Encode()
	return b, exact, err
}

// flags returns the CTA_FILTER flag word for t and whether the kernel
// evaluates t exactly as match does.
func (t *TupleFilter) flags(fam Family) (uint32, bool) {
	if t == nil {
		return 0, true
	}
	var fl uint32
	exact := true
	switch {
	case fam == FamilyAny:
		// Tuple fields need a family: the caller splits by family.
		if t.Src.IsValid() || t.Dst.IsValid() {
			exact = false
		}
	case fam == IPv6:
		// Linux up to at least 6.18 inverts the IPv6 address comparison
		// of CTA_FILTER (!ipv6_addr_cmp: equal addresses are rejected),
		// measured here: an IPv6 address filter returns every other
		// flow. IPv6 addresses are therefore matched in Go only.
		if t.Src.IsValid() || t.Dst.IsValid() {
			exact = false
		}
	default:
		if t.Src.IsValid() {
			fl |= filterIPSrc
		}
		if t.Dst.IsValid() {
			fl |= filterIPDst
		}
	}
	if t.Proto == 0 {
		return fl, exact
	}
	fl |= filterProtoNum
	switch {
	case t.Proto == ProtoTCP || t.Proto == ProtoUDP:
		if t.SrcPort != 0 {
			fl |= filterSrcPort
		}
		if t.DstPort != 0 {
			fl |= filterDstPort
		}
	case t.Proto.isICMP():
		v6 := t.Proto == ProtoICMPv6
		if t.ICMPType != nil {
			// The kernel refuses a type it cannot invert (EINVAL), so only
			// query types go into the kernel filter; the rest is matched in Go.
			if invertible(*t.ICMPType, v6) {
				fl |= pick(v6, filterICMPv6Type, filterICMPType)
			} else {
				exact = false
			}
		}
		if t.ICMPCode != nil {
			fl |= pick(v6, filterICMPv6Code, filterICMPCode)
		}
		if t.ICMPID != nil {
			fl |= pick(v6, filterICMPv6ID, filterICMPID)
		}
		if t.ICMPCode != nil && fl&pick(v6, filterICMPv6Type, filterICMPType) == 0 {
			// The kernel parses the code only together with a type.
			fl &^= pick(v6, filterICMPv6Code, filterICMPCode)
			exact = false
		}
	default:
		// Other protocols' ports are parsed but, on the kernels seen,
		// compared only for TCP and UDP: keep them in Go.
		if t.SrcPort != 0 || t.DstPort != 0 {
			exact = false
		}
	}
	return fl, exact
}

func pick(c bool, a, b uint32) uint32 {
	if c {
		return a
	}
	return b
}

func invertible(typ uint8, v6 bool) bool {
	if v6 {
		return typ == 128 || typ == 129 || typ == 139 || typ == 140
	}
	switch typ {
	case 0, 8, 13, 14, 15, 16, 17, 18:
		return true
	}
	return false
}

// encode writes the tuple fields named by fl, as CTA_FILTER wants them.
func (t *TupleFilter) encode(ae *netlink.AttributeEncoder, fl uint32) {
	if fl&(filterIPSrc|filterIPDst) != 0 {
		nest(ae, ctaTupleIP, func(ip *netlink.AttributeEncoder) {
			if fl&filterIPSrc != 0 {
				putAddr(ip, ctaIPv4Src, ctaIPv6Src, t.Src)
			}
			if fl&filterIPDst != 0 {
				putAddr(ip, ctaIPv4Dst, ctaIPv6Dst, t.Dst)
			}
		})
	}
	if fl&filterProtoNum == 0 {
		return
	}
	nest(ae, ctaTupleProto, func(p *netlink.AttributeEncoder) {
		p.Uint8(ctaProtoNum, uint8(t.Proto))
		if fl&filterSrcPort != 0 {
			p.Uint16(ctaProtoSrcPort, t.SrcPort)
		}
		if fl&filterDstPort != 0 {
			p.Uint16(ctaProtoDstPort, t.DstPort)
		}
		if fl&(filterICMPID|filterICMPv6ID) != 0 {
			p.Uint16(pick16(t.Proto == ProtoICMPv6, ctaProtoICMPv6ID, ctaProtoICMPID), *t.ICMPID)
		}
		if fl&(filterICMPType|filterICMPv6Type) != 0 {
			p.Uint8(pick16(t.Proto == ProtoICMPv6, ctaProtoICMPv6Type, ctaProtoICMPType), *t.ICMPType)
		}
		if fl&(filterICMPCode|filterICMPv6Code) != 0 {
			p.Uint8(pick16(t.Proto == ProtoICMPv6, ctaProtoICMPv6Code, ctaProtoICMPCode), *t.ICMPCode)
		}
	})
}

func pick16(c bool, a, b uint16) uint16 {
	if c {
		return a
	}
	return b
}
