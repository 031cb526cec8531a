package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NATType is enum nft_nat_types.
type NATType uint32

const (
	SNAT NATType = unix.NFT_NAT_SNAT
	DNAT NATType = unix.NFT_NAT_DNAT
)

func (t NATType) String() string {
	switch t {
	case SNAT:
		return "snat"
	case DNAT:
		return "dnat"
	}
	return fmt.Sprintf("NATType(%d)", uint32(t))
}

// NAT range flags (NF_NAT_RANGE_* in nf_nat.h), shared by nat, masq and
// redir. The kernel adds MapIPs and ProtoSpecified itself when address or
// port registers are given, and dumps them.
const (
	NATMapIPs         uint32 = 0x01 // NF_NAT_RANGE_MAP_IPS
	NATProtoSpecified uint32 = 0x02 // NF_NAT_RANGE_PROTO_SPECIFIED
	NATRandom         uint32 = 0x04 // NF_NAT_RANGE_PROTO_RANDOM
	NATPersistent     uint32 = 0x08 // NF_NAT_RANGE_PERSISTENT
	NATFullyRandom    uint32 = 0x10 // NF_NAT_RANGE_PROTO_RANDOM_FULLY
	NATProtoOffset    uint32 = 0x20 // NF_NAT_RANGE_PROTO_OFFSET
	NATNetmap         uint32 = 0x40 // NF_NAT_RANGE_NETMAP
	natFlagsAll       uint32 = 0x7f
)

// NAT rewrites source or destination (nft's `snat to 192.0.2.1:1000-2000`,
// `dnat ip to 198.51.100.0/24 fully-random`): the addresses come from
// RegAddrMin/Max, the ports from RegProtoMin/Max (0: unused). Family is
// the address family (unix.NFPROTO_IPV4 or _IPV6).
type NAT struct {
	Type        NATType
	Family      uint32
	RegAddrMin  Register
	RegAddrMax  Register
	RegProtoMin Register
	RegProtoMax Register
	Flags       uint32
}

func (n *NAT) Name() string { return "nat" }

func (n *NAT) validate() error {
	if n.Type > DNAT {
		return invalidf("nat type %d", uint32(n.Type))
	}
	if n.Family != unix.NFPROTO_IPV4 && n.Family != unix.NFPROTO_IPV6 {
		return invalidf("nat family %d (want NFPROTO_IPV4 or NFPROTO_IPV6)", n.Family)
	}
	if n.Flags&^natFlagsAll != 0 {
		return invalidf("nat flags %#x", n.Flags)
	}
	if err := checkOptRegPair("nat address", n.RegAddrMin, n.RegAddrMax); err != nil {
		return err
	}
	return checkOptRegPair("nat port", n.RegProtoMin, n.RegProtoMax)
}

// checkOptRegPair: min may be 0 (unused); max needs min.
func checkOptRegPair(field string, min, max Register) error {
	if min == 0 {
		if max != 0 {
			return invalidf("%s max register %s without a min register", field, max)
		}
		return nil
	}
	// The field names are only built on failure: concatenating them up
	// front cost two allocations per decoded nat/dup expression (the
	// decoder validates every typed expression).
	if checkReg("", min, 1, false) != nil {
		return checkReg(field+" min", min, 1, false)
	}
	if max != 0 && checkReg("", max, 1, false) != nil {
		return checkReg(field+" max", max, 1, false)
	}
	return nil
}

func (n *NAT) marshal(ae *enc) error {
	ae.U32(unix.NFTA_NAT_TYPE, uint32(n.Type))
	ae.U32(unix.NFTA_NAT_FAMILY, n.Family)
	if n.RegAddrMin != 0 {
		putReg(ae, unix.NFTA_NAT_REG_ADDR_MIN, n.RegAddrMin)
		putReg(ae, unix.NFTA_NAT_REG_ADDR_MAX, orReg(n.RegAddrMax, n.RegAddrMin))
	}
	if n.RegProtoMin != 0 {
		putReg(ae, unix.NFTA_NAT_REG_PROTO_MIN, n.RegProtoMin)
		putReg(ae, unix.NFTA_NAT_REG_PROTO_MAX, orReg(n.RegProtoMax, n.RegProtoMin))
	}
	if n.Flags != 0 {
		ae.U32(unix.NFTA_NAT_FLAGS, n.Flags)
	}
	return nil
}

// orReg: the kernel uses min for an absent max, and dumps both.
func orReg(r, def Register) Register {
	if r == 0 {
		return def
	}
	return r
}

func (n *NAT) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_NAT_TYPE:
			n.Type = NATType(ad.U32())
		case unix.NFTA_NAT_FAMILY:
			n.Family = ad.U32()
		case unix.NFTA_NAT_REG_ADDR_MIN:
			n.RegAddrMin = getReg(ad)
		case unix.NFTA_NAT_REG_ADDR_MAX:
			n.RegAddrMax = getReg(ad)
		case unix.NFTA_NAT_REG_PROTO_MIN:
			n.RegProtoMin = getReg(ad)
		case unix.NFTA_NAT_REG_PROTO_MAX:
			n.RegProtoMax = getReg(ad)
		case unix.NFTA_NAT_FLAGS:
			n.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}

// Masq masquerades to the outgoing interface's address (nft's
// `masquerade to :1024-2048 random`).
type Masq struct {
	Flags       uint32
	RegProtoMin Register
	RegProtoMax Register
}

func (m *Masq) Name() string { return "masq" }

func (m *Masq) validate() error {
	if m.Flags&^natFlagsAll != 0 {
		return invalidf("masq flags %#x", m.Flags)
	}
	return checkOptRegPair("masq port", m.RegProtoMin, m.RegProtoMax)
}

func (m *Masq) marshal(ae *enc) error {
	if m.Flags != 0 {
		ae.U32(unix.NFTA_MASQ_FLAGS, m.Flags)
	}
	if m.RegProtoMin != 0 {
		putReg(ae, unix.NFTA_MASQ_REG_PROTO_MIN, m.RegProtoMin)
		putReg(ae, unix.NFTA_MASQ_REG_PROTO_MAX, orReg(m.RegProtoMax, m.RegProtoMin))
	}
	return nil
}

func (m *Masq) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_MASQ_FLAGS:
			m.Flags = ad.U32()
		case unix.NFTA_MASQ_REG_PROTO_MIN:
			m.RegProtoMin = getReg(ad)
		case unix.NFTA_MASQ_REG_PROTO_MAX:
			m.RegProtoMax = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}

// Redir redirects to the local machine (nft's `redirect to :8080`).
type Redir struct {
	RegProtoMin Register
	RegProtoMax Register
	Flags       uint32
}

func (r *Redir) Name() string { return "redir" }

func (r *Redir) validate() error {
	if r.Flags&^natFlagsAll != 0 {
		return invalidf("redir flags %#x", r.Flags)
	}
	return checkOptRegPair("redir port", r.RegProtoMin, r.RegProtoMax)
}

func (r *Redir) marshal(ae *enc) error {
	if r.RegProtoMin != 0 {
		putReg(ae, unix.NFTA_REDIR_REG_PROTO_MIN, r.RegProtoMin)
		putReg(ae, unix.NFTA_REDIR_REG_PROTO_MAX, orReg(r.RegProtoMax, r.RegProtoMin))
	}
	if r.Flags != 0 {
		ae.U32(unix.NFTA_REDIR_FLAGS, r.Flags)
	}
	return nil
}

func (r *Redir) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_REDIR_REG_PROTO_MIN:
			r.RegProtoMin = getReg(ad)
		case unix.NFTA_REDIR_REG_PROTO_MAX:
			r.RegProtoMax = getReg(ad)
		case unix.NFTA_REDIR_FLAGS:
			r.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
