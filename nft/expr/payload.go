package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// PayloadBase is where a payload offset counts from (enum
// nft_payload_bases).
type PayloadBase uint32

const (
	LinkLayerHeader PayloadBase = unix.NFT_PAYLOAD_LL_HEADER
	NetworkHeader   PayloadBase = unix.NFT_PAYLOAD_NETWORK_HEADER
	TransportHeader PayloadBase = unix.NFT_PAYLOAD_TRANSPORT_HEADER
	InnerHeader     PayloadBase = 3 // NFT_PAYLOAD_INNER_HEADER
	TunnelHeader    PayloadBase = 4 // NFT_PAYLOAD_TUN_HEADER (Linux 6.2, inside "inner")
)

func (b PayloadBase) String() string {
	switch b {
	case LinkLayerHeader:
		return "ll"
	case NetworkHeader:
		return "nh"
	case TransportHeader:
		return "th"
	case InnerHeader:
		return "ih"
	case TunnelHeader:
		return "tun"
	}
	return fmt.Sprintf("PayloadBase(%d)", uint32(b))
}

// CsumType says which checksum a payload write fixes up (enum
// nft_payload_csum_types).
type CsumType uint32

const (
	CsumNone CsumType = unix.NFT_PAYLOAD_CSUM_NONE
	CsumInet CsumType = unix.NFT_PAYLOAD_CSUM_INET
	CsumSCTP CsumType = 2 // NFT_PAYLOAD_CSUM_SCTP
)

func (c CsumType) String() string {
	switch c {
	case CsumNone:
		return "none"
	case CsumInet:
		return "inet"
	case CsumSCTP:
		return "sctp"
	}
	return fmt.Sprintf("CsumType(%d)", uint32(c))
}

// CsumFlagPseudoHeader (NFT_PAYLOAD_L4CSUM_PSEUDOHDR) also updates the
// layer 4 checksum, whose pseudo header covers the rewritten field.
const CsumFlagPseudoHeader uint32 = unix.NFT_PAYLOAD_L4CSUM_PSEUDOHDR

// Payload loads Len bytes at Offset from Base into DestRegister (nft's
// `ip saddr`, `tcp dport`), or, when SourceRegister is set, writes them
// from SourceRegister into the packet (`ip daddr set ...`), fixing the
// checksum CsumType found at CsumOffset.
type Payload struct {
	Base           PayloadBase
	Offset         uint32
	Len            uint32
	DestRegister   Register
	SourceRegister Register // non-zero: a write ("set") instead of a load
	CsumType       CsumType
	CsumOffset     uint32
	CsumFlags      uint32
}

func (p *Payload) Name() string { return "payload" }

func (p *Payload) validate() error {
	if p.Base > TunnelHeader {
		return invalidf("payload base %d", uint32(p.Base))
	}
	if p.Len == 0 || p.Len > maxData || p.Offset > 255 {
		return invalidf("payload offset %d len %d (want offset <= 255, len 1..%d)", p.Offset, p.Len, maxData)
	}
	if p.SourceRegister != 0 {
		if p.DestRegister != 0 {
			return invalidf("payload with both source register %s and destination register %s", p.SourceRegister, p.DestRegister)
		}
		if p.CsumType > CsumSCTP {
			return invalidf("payload checksum type %d", uint32(p.CsumType))
		}
		return checkReg("payload source", p.SourceRegister, int(p.Len), false)
	}
	if p.CsumType != 0 || p.CsumOffset != 0 || p.CsumFlags != 0 {
		return invalidf("payload load with checksum fields (type %s offset %d flags %#x): only writes fix checksums", p.CsumType, p.CsumOffset, p.CsumFlags)
	}
	return checkReg("payload destination", p.DestRegister, int(p.Len), false)
}

func (p *Payload) marshal(ae *enc) error {
	if p.SourceRegister != 0 {
		putReg(ae, unix.NFTA_PAYLOAD_SREG, p.SourceRegister)
	} else {
		putReg(ae, unix.NFTA_PAYLOAD_DREG, p.DestRegister)
	}
	ae.U32(unix.NFTA_PAYLOAD_BASE, uint32(p.Base))
	ae.U32(unix.NFTA_PAYLOAD_OFFSET, p.Offset)
	ae.U32(unix.NFTA_PAYLOAD_LEN, p.Len)
	if p.SourceRegister != 0 {
		ae.U32(unix.NFTA_PAYLOAD_CSUM_TYPE, uint32(p.CsumType))
		ae.U32(unix.NFTA_PAYLOAD_CSUM_OFFSET, p.CsumOffset)
		ae.U32(unix.NFTA_PAYLOAD_CSUM_FLAGS, p.CsumFlags)
	}
	return nil
}

func (p *Payload) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_PAYLOAD_DREG:
			p.DestRegister = getReg(ad)
		case unix.NFTA_PAYLOAD_SREG:
			p.SourceRegister = getReg(ad)
		case unix.NFTA_PAYLOAD_BASE:
			p.Base = PayloadBase(ad.U32())
		case unix.NFTA_PAYLOAD_OFFSET:
			p.Offset = ad.U32()
		case unix.NFTA_PAYLOAD_LEN:
			p.Len = ad.U32()
		case unix.NFTA_PAYLOAD_CSUM_TYPE:
			p.CsumType = CsumType(ad.U32())
		case unix.NFTA_PAYLOAD_CSUM_OFFSET:
			p.CsumOffset = ad.U32()
		case unix.NFTA_PAYLOAD_CSUM_FLAGS:
			p.CsumFlags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
