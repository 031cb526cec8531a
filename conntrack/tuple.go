package conntrack

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// Family is an address family: IPv4, IPv6 or 0 for both.
type Family uint8

// Address families.
const (
	FamilyAny Family = unix.AF_UNSPEC
	IPv4      Family = unix.AF_INET
	IPv6      Family = unix.AF_INET6
)

func (f Family) String() string {
	switch f {
	case FamilyAny:
		return "any"
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

func familyOf(a netip.Addr) Family {
	if !a.IsValid() {
		return FamilyAny
	}
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Proto is a layer-4 protocol number.
type Proto uint8

// Layer-4 protocols conntrack tracks with their own tuple fields.
const (
	ProtoICMP    Proto = unix.IPPROTO_ICMP
	ProtoTCP     Proto = unix.IPPROTO_TCP
	ProtoUDP     Proto = unix.IPPROTO_UDP
	ProtoDCCP    Proto = unix.IPPROTO_DCCP
	ProtoGRE     Proto = unix.IPPROTO_GRE
	ProtoICMPv6  Proto = unix.IPPROTO_ICMPV6
	ProtoSCTP    Proto = unix.IPPROTO_SCTP
	ProtoUDPLite Proto = unix.IPPROTO_UDPLITE
)

func (p Proto) String() string {
	switch p {
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoDCCP:
		return "dccp"
	case ProtoGRE:
		return "gre"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoSCTP:
		return "sctp"
	case ProtoUDPLite:
		return "udplite"
	}
	return strconv.Itoa(int(p))
}

// hasPorts reports whether the protocol's tuple carries source and
// destination ports (for GRE, the keys travel in the same attributes).
func (p Proto) hasPorts() bool {
	switch p {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP, ProtoGRE:
		return true
	}
	return false
}

func (p Proto) isICMP() bool { return p == ProtoICMP || p == ProtoICMPv6 }

// Tuple is one direction of a connection: addresses, protocol and the
// protocol's identifying fields.
type Tuple struct {
	Src, Dst netip.Addr
	Proto    Proto
	// SrcPort and DstPort for TCP, UDP, UDPLite, SCTP, DCCP; for GRE the
	// (PPTP) keys.
	SrcPort, DstPort uint16
	// ICMP and ICMPv6 echo id, type and code.
	ICMPID             uint16
	ICMPType, ICMPCode uint8
	// Zone is the zone of this direction only (CTA_TUPLE_ZONE), for flows
	// whose zone applies to one direction; 0 when the zone is not
	// directional (see Flow.Zone).
	Zone uint16

	// Unknown attributes at the tuple, address and protocol levels.
	Unknown, UnknownIP, UnknownProto []Attr
}

func (t Tuple) String() string {
	s := fmt.Sprintf("%s src=%s dst=%s", t.Proto, t.Src, t.Dst)
	switch {
	case t.Proto.hasPorts():
		s += fmt.Sprintf(" sport=%d dport=%d", t.SrcPort, t.DstPort)
	case t.Proto.isICMP():
		s += fmt.Sprintf(" type=%d code=%d id=%d", t.ICMPType, t.ICMPCode, t.ICMPID)
	}
	if t.Zone != 0 {
		s += fmt.Sprintf(" zone=%d", t.Zone)
	}
	return s
}

// Family is the tuple's address family, from its addresses.
func (t Tuple) Family() Family {
	if f := familyOf(t.Src); f != FamilyAny {
		return f
	}
	return familyOf(t.Dst)
}

// Reverse returns the tuple of the other direction without NAT: addresses
// and ports swapped, an ICMP echo request turned into its reply. It is what
// `conntrack -I` assumes when no reply tuple is given.
func (t Tuple) Reverse() Tuple {
	r := Tuple{Src: t.Dst, Dst: t.Src, Proto: t.Proto, SrcPort: t.DstPort, DstPort: t.SrcPort,
		ICMPID: t.ICMPID, ICMPType: t.ICMPType, ICMPCode: t.ICMPCode}
	switch {
	case t.Proto == ProtoICMP:
		// echo 8↔0, timestamp 13↔14, info 15↔16, address mask 17↔18
		switch t.ICMPType {
		case 8:
			r.ICMPType = 0
		case 0:
			r.ICMPType = 8
		case 13, 15, 17:
			r.ICMPType = t.ICMPType + 1
		case 14, 16, 18:
			r.ICMPType = t.ICMPType - 1
		}
	case t.Proto == ProtoICMPv6:
		// echo 128↔129, node information 139↔140
		switch t.ICMPType {
		case 128, 139:
			r.ICMPType = t.ICMPType + 1
		case 129, 140:
			r.ICMPType = t.ICMPType - 1
		}
	}
	return r
}

// validate checks a tuple that identifies or creates a flow: it needs both
// addresses of one family, a protocol, and only the fields of that protocol.
func (t Tuple) validate(field string) error {
	if !t.Src.IsValid() {
		return invalid(field+".Src", t.Src, "source address is required")
	}
	if !t.Dst.IsValid() {
		return invalid(field+".Dst", t.Dst, "destination address is required")
	}
	if t.Src.Is4() != t.Dst.Is4() {
		return invalid(field+".Dst", t.Dst, "address family differs from source "+t.Src.String())
	}
	if t.Src.Is4In6() || t.Dst.Is4In6() {
		return invalid(field+".Src", t.Src, "IPv4-mapped IPv6 addresses are ambiguous; use the IPv4 form")
	}
	return checkProtoFields(field, t.Proto, t.Family(), t.SrcPort, t.DstPort, t.ICMPID != 0 || t.ICMPType != 0 || t.ICMPCode != 0, true)
}

// checkProtoFields rejects fields that do not belong to proto.
func checkProtoFields(field string, proto Proto, fam Family, sport, dport uint16, icmp, required bool) error {
	if proto == 0 {
		if required {
			return invalid(field+".Proto", proto, "protocol is required")
		}
		if sport != 0 || dport != 0 {
			return invalid(field+".Proto", proto, "ports need a protocol (tcp, udp, udplite, sctp, dccp)")
		}
		if icmp {
			return invalid(field+".Proto", proto, "ICMP fields need protocol icmp or icmpv6")
		}
		return nil
	}
	if !proto.hasPorts() && (sport != 0 || dport != 0) {
		p := sport
		name := ".SrcPort"
		if p == 0 {
			p, name = dport, ".DstPort"
		}
		return invalid(field+name, p, "protocol "+proto.String()+" has no ports")
	}
	if !proto.isICMP() && icmp {
		return invalid(field+".ICMPType", proto, "ICMP fields on protocol "+proto.String())
	}
	if proto == ProtoICMP && fam == IPv6 {
		return invalid(field+".Proto", proto, "icmp with IPv6 addresses (use icmpv6)")
	}
	if proto == ProtoICMPv6 && fam == IPv4 {
		return invalid(field+".Proto", proto, "icmpv6 with IPv4 addresses (use icmp)")
	}
	return nil
}

// marshal encodes the tuple as the payload of CTA_TUPLE_ORIG/REPLY/MASTER.
func (t *Tuple) marshal(ae *netlink.AttributeEncoder) {
	if t.Src.IsValid() || t.Dst.IsValid() || len(t.UnknownIP) > 0 {
		nest(ae, ctaTupleIP, func(ip *netlink.AttributeEncoder) {
			putAddr(ip, ctaIPv4Src, ctaIPv6Src, t.Src)
			putAddr(ip, ctaIPv4Dst, ctaIPv6Dst, t.Dst)
			putUnknown(ip, t.UnknownIP)
		})
	}
	nest(ae, ctaTupleProto, func(p *netlink.AttributeEncoder) {
		p.Uint8(ctaProtoNum, uint8(t.Proto))
		// The protocol's own fields always; foreign ones only when set, so
		// whatever was decoded is written back.
		if t.Proto.hasPorts() || t.SrcPort != 0 || t.DstPort != 0 {
			p.Uint16(ctaProtoSrcPort, t.SrcPort)
			p.Uint16(ctaProtoDstPort, t.DstPort)
		}
		if t.Proto.isICMP() || t.ICMPID != 0 || t.ICMPType != 0 || t.ICMPCode != 0 {
			if t.Proto == ProtoICMPv6 {
				p.Uint16(ctaProtoICMPv6ID, t.ICMPID)
				p.Uint8(ctaProtoICMPv6Type, t.ICMPType)
				p.Uint8(ctaProtoICMPv6Code, t.ICMPCode)
			} else {
				p.Uint16(ctaProtoICMPID, t.ICMPID)
				p.Uint8(ctaProtoICMPType, t.ICMPType)
				p.Uint8(ctaProtoICMPCode, t.ICMPCode)
			}
		}
		putUnknown(p, t.UnknownProto)
	})
	if t.Zone != 0 {
		ae.Uint16(ctaTupleZone, t.Zone)
	}
	putUnknown(ae, t.Unknown)
}

func putAddr(ae *netlink.AttributeEncoder, v4, v6 uint16, a netip.Addr) {
	switch {
	case !a.IsValid():
	case a.Is4():
		ae.Bytes(v4, attr.AddrBytes(a))
	default:
		ae.Bytes(v6, attr.AddrBytes(a))
	}
}

// unmarshalTuple decodes a CTA_TUPLE_* payload.
func unmarshalTuple(w *walker, t *Tuple) {
	n := w.child()
	for n.Next() {
		switch n.Kind() {
		case ctaTupleIP:
			ip := n.child()
			for ip.Next() {
				switch ip.Kind() {
				case ctaIPv4Src, ctaIPv6Src:
					t.Src = decodeAddr(&ip, ip.Kind() == ctaIPv4Src)
				case ctaIPv4Dst, ctaIPv6Dst:
					t.Dst = decodeAddr(&ip, ip.Kind() == ctaIPv4Dst)
				default:
					t.UnknownIP = append(t.UnknownIP, ip.raw())
				}
			}
			n.join(&ip)
		case ctaTupleProto:
			p := n.child()
			for p.Next() {
				switch p.Kind() {
				case ctaProtoNum:
					t.Proto = Proto(p.u8("CTA_PROTO_NUM"))
				case ctaProtoSrcPort:
					t.SrcPort = p.u16("CTA_PROTO_SRC_PORT")
				case ctaProtoDstPort:
					t.DstPort = p.u16("CTA_PROTO_DST_PORT")
				case ctaProtoICMPID, ctaProtoICMPv6ID:
					t.ICMPID = p.u16("CTA_PROTO_ICMP_ID")
				case ctaProtoICMPType, ctaProtoICMPv6Type:
					t.ICMPType = p.u8("CTA_PROTO_ICMP_TYPE")
				case ctaProtoICMPCode, ctaProtoICMPv6Code:
					t.ICMPCode = p.u8("CTA_PROTO_ICMP_CODE")
				default:
					t.UnknownProto = append(t.UnknownProto, p.raw())
				}
			}
			n.join(&p)
		case ctaTupleZone:
			t.Zone = n.u16("CTA_TUPLE_ZONE")
		default:
			t.Unknown = append(t.Unknown, n.raw())
		}
	}
	w.join(&n)
}

func decodeAddr(w *walker, v4 bool) netip.Addr {
	want := 16
	if v4 {
		want = 4
	}
	if len(w.Data()) != want {
		w.fail("address", want)
		return netip.Addr{}
	}
	// Straight from the bytes: no error value, nothing allocated.
	if v4 {
		return netip.AddrFrom4([4]byte(w.Data()))
	}
	return netip.AddrFrom16([16]byte(w.Data()))
}

type netipAddrField struct {
	field string
	addr  netip.Addr
}
