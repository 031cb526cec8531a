package expr

import "golang.org/x/sys/unix"

// ExthdrOp is enum nft_exthdr_op: which kind of header or option Exthdr
// looks in.
type ExthdrOp uint32

const (
	ExthdrIPv6   ExthdrOp = unix.NFT_EXTHDR_OP_IPV6   // `exthdr frag ...`: IPv6 extension headers
	ExthdrTCPOpt ExthdrOp = unix.NFT_EXTHDR_OP_TCPOPT // `tcp option maxseg size`
	ExthdrIPv4   ExthdrOp = 2                         // NFT_EXTHDR_OP_IPV4: `ip option rr`
	ExthdrSCTP   ExthdrOp = 3                         // NFT_EXTHDR_OP_SCTP: `sctp chunk init`
	ExthdrDCCP   ExthdrOp = 4                         // NFT_EXTHDR_OP_DCCP: `dccp option 4`
)

func (o ExthdrOp) String() string {
	return enumString(uint32(o), []string{"exthdr", "tcp option", "ip option", "sctp chunk", "dccp option"}, "ExthdrOp")
}

// ExthdrFlagPresent (NFT_EXTHDR_F_PRESENT) loads a boolean "present"
// instead of the field (`exthdr frag exists`).
const ExthdrFlagPresent uint32 = unix.NFT_EXTHDR_F_PRESENT

// Exthdr loads (DestRegister), writes (SourceRegister) or, with neither,
// removes (`reset tcp option`) an extension header or option field: IPv6
// extension headers, TCP options, IPv4 options, SCTP chunks, DCCP options.
// Type is the header / option / chunk type of Op's protocol.
type Exthdr struct {
	DestRegister   Register
	SourceRegister Register
	Type           uint8
	Offset         uint32
	Len            uint32
	Flags          uint32
	Op             ExthdrOp
}

func (e *Exthdr) Name() string { return "exthdr" }

func (e *Exthdr) validate() error {
	if e.Op > ExthdrDCCP || e.Flags&^ExthdrFlagPresent != 0 || e.Len > maxData {
		return invalidf("exthdr op %d flags %#x len %d", uint32(e.Op), e.Flags, e.Len)
	}
	if e.DestRegister != 0 && e.SourceRegister != 0 {
		return invalidf("exthdr with both source %s and destination %s", e.SourceRegister, e.DestRegister)
	}
	if e.DestRegister != 0 {
		return checkReg("exthdr destination", e.DestRegister, int(e.Len), false)
	}
	if e.SourceRegister != 0 {
		return checkReg("exthdr source", e.SourceRegister, int(e.Len), false)
	}
	return nil
}

func (e *Exthdr) marshal(ae *enc) error {
	if e.DestRegister != 0 {
		putReg(ae, unix.NFTA_EXTHDR_DREG, e.DestRegister)
	}
	if e.SourceRegister != 0 {
		putReg(ae, unix.NFTA_EXTHDR_SREG, e.SourceRegister)
	}
	ae.U8(unix.NFTA_EXTHDR_TYPE, e.Type)
	ae.U32(unix.NFTA_EXTHDR_OFFSET, e.Offset)
	ae.U32(unix.NFTA_EXTHDR_LEN, e.Len)
	ae.U32(unix.NFTA_EXTHDR_FLAGS, e.Flags)
	ae.U32(unix.NFTA_EXTHDR_OP, uint32(e.Op))
	return nil
}

func (e *Exthdr) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_EXTHDR_DREG:
			e.DestRegister = getReg(ad)
		case unix.NFTA_EXTHDR_SREG:
			e.SourceRegister = getReg(ad)
		case unix.NFTA_EXTHDR_TYPE:
			e.Type = ad.U8()
		case unix.NFTA_EXTHDR_OFFSET:
			e.Offset = ad.U32()
		case unix.NFTA_EXTHDR_LEN:
			e.Len = ad.U32()
		case unix.NFTA_EXTHDR_FLAGS:
			e.Flags = ad.U32()
		case unix.NFTA_EXTHDR_OP:
			e.Op = ExthdrOp(ad.U32())
		default:
			return errUnknownAttr
		}
	}
	return nil
}
