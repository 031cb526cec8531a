package expr

// InnerType is enum nft_inner_type: the tunnel protocol whose inner
// packet Inner parses.
type InnerType uint32

const (
	InnerVXLAN  InnerType = 1 // NFT_INNER_VXLAN (nft 1.1: `vxlan ip saddr ...`)
	InnerGeneve InnerType = 2 // NFT_INNER_GENEVE (`geneve tcp dport ...`)
)

func (t InnerType) String() string {
	return enumString(uint32(t), []string{"", "vxlan", "geneve"}, "InnerType")
}

// InnerFlags are enum nft_inner_flags: which inner headers to locate.
type InnerFlags uint32

const (
	InnerHdrSize  InnerFlags = 1 << 0 // NFT_INNER_HDRSIZE: the tunnel header is HdrSize bytes
	InnerLL       InnerFlags = 1 << 1 // NFT_INNER_LL: inner link layer header
	InnerNH       InnerFlags = 1 << 2 // NFT_INNER_NH: inner network header
	InnerTH       InnerFlags = 1 << 3 // NFT_INNER_TH: inner transport header
	innerFlagsAll InnerFlags = 0xf    // NFT_INNER_MASK
)

func (f InnerFlags) String() string {
	return flagString(uint32(f), []string{"hdrsize", "ll", "nh", "th"})
}

// Attribute types (enum nft_inner_attributes, Linux 6.2); x/sys/unix
// lacks them.
const (
	attrInnerNum     = 1 // NFTA_INNER_NUM
	attrInnerType    = 2 // NFTA_INNER_TYPE
	attrInnerFlags   = 3 // NFTA_INNER_FLAGS
	attrInnerHdrSize = 4 // NFTA_INNER_HDRSIZE
	attrInnerExpr    = 5 // NFTA_INNER_EXPR
)

// Inner runs a payload or meta expression on the packet carried inside a
// UDP tunnel (nft 1.1's `vxlan ip saddr 192.0.2.1`, `geneve tcp dport
// 22`; nft 1.0.6 has no syntax for it). Expr is a *Payload (bases
// LinkLayerHeader, NetworkHeader, TransportHeader, InnerHeader of the
// inner packet, TunnelHeader for the tunnel header itself) or a *Meta
// (MetaProtocol, MetaL4proto). Linux 6.2; the kernel supports tunnel
// level Num 0 only and always dumps every attribute.
type Inner struct {
	Num     uint32
	Type    InnerType
	Flags   InnerFlags
	HdrSize uint32 // with InnerHdrSize: 1..64
	Expr    Any
}

func (i *Inner) Name() string { return "inner" }

func (i *Inner) validate() error {
	if i.Num != 0 {
		return invalidf("inner tunnel level %d (the kernel supports 0 only)", i.Num)
	}
	if i.Type != InnerVXLAN && i.Type != InnerGeneve {
		return invalidf("inner type %d", uint32(i.Type))
	}
	if i.Flags&^innerFlagsAll != 0 {
		return invalidf("inner flags %#x", uint32(i.Flags))
	}
	if i.Flags&InnerHdrSize != 0 && (i.HdrSize == 0 || i.HdrSize > 64) {
		return invalidf("inner header size %d (want 1..64)", i.HdrSize)
	}
	switch x := i.Expr.(type) {
	case *Payload:
		if x.SourceRegister != 0 {
			return invalidf("inner payload write: only loads work on the inner packet")
		}
	case *Meta:
		if x.Key != MetaProtocol && x.Key != MetaL4proto {
			return invalidf("inner meta %s (want protocol or l4proto)", x.Key)
		}
		if x.SourceRegister != 0 {
			return invalidf("inner meta set: only loads work on the inner packet")
		}
	case *Raw:
		if x.ExprName != "payload" && x.ExprName != "meta" {
			return invalidf("inner expression %q (want payload or meta)", x.ExprName)
		}
	case nil:
		return invalidf("inner without an expression")
	default:
		return invalidf("inner expression %s (want payload or meta)", x.Name())
	}
	if err := i.Expr.validate(); err != nil {
		return err
	}
	return nil
}

func (i *Inner) marshal(ae *enc) error {
	ae.U32(attrInnerNum, i.Num)
	ae.U32(attrInnerType, uint32(i.Type))
	ae.U32(attrInnerFlags, uint32(i.Flags))
	ae.U32(attrInnerHdrSize, i.HdrSize)
	if i.Expr == nil {
		return invalidf("inner without an expression")
	}
	return encodeOne(ae, attrInnerExpr, i.Expr)
}

func (i *Inner) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrInnerNum:
			i.Num = ad.U32()
		case attrInnerType:
			i.Type = InnerType(ad.U32())
		case attrInnerFlags:
			i.Flags = InnerFlags(ad.U32())
		case attrInnerHdrSize:
			i.HdrSize = ad.U32()
		case attrInnerExpr:
			// Decoded on its own (typed only when exact, else Raw);
			// the outer check then compares the whole nest again.
			x, err := decodeOne(ad.Data())
			if err != nil {
				return err
			}
			i.Expr = x
		default:
			return errUnknownAttr
		}
	}
	return nil
}
