package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// RejectType is enum nft_reject_types.
type RejectType uint32

const (
	RejectICMPUnreach  RejectType = unix.NFT_REJECT_ICMP_UNREACH  // code is an ICMP/ICMPv6 code of the family
	RejectTCPReset     RejectType = unix.NFT_REJECT_TCP_RST       // no code
	RejectICMPXUnreach RejectType = unix.NFT_REJECT_ICMPX_UNREACH // code is an ICMPX code (inet/bridge/netdev)
)

func (t RejectType) String() string {
	switch t {
	case RejectICMPUnreach:
		return "icmp"
	case RejectTCPReset:
		return "tcp reset"
	case RejectICMPXUnreach:
		return "icmpx"
	}
	return fmt.Sprintf("RejectType(%d)", uint32(t))
}

// ICMPX codes (enum nft_reject_inet_code), mapped per family by the kernel.
const (
	ICMPXNoRoute         uint8 = 0
	ICMPXPortUnreach     uint8 = 1
	ICMPXHostUnreach     uint8 = 2
	ICMPXAdminProhibited uint8 = 3
)

// Reject drops the packet and answers with an ICMP error or a TCP reset
// (nft's `reject with icmp type host-unreachable`, `reject with tcp
// reset`, `reject with icmpx type admin-prohibited`).
type Reject struct {
	Type RejectType
	Code uint8
}

func (r *Reject) Name() string { return "reject" }

func (r *Reject) validate() error {
	switch r.Type {
	case RejectTCPReset:
		if r.Code != 0 {
			return invalidf("reject tcp reset with code %d", r.Code)
		}
	case RejectICMPXUnreach:
		if r.Code > ICMPXAdminProhibited {
			return invalidf("reject icmpx code %d", r.Code)
		}
	case RejectICMPUnreach:
	default:
		return invalidf("reject type %d", uint32(r.Type))
	}
	return nil
}

func (r *Reject) marshal(ae *enc) error {
	ae.Uint32(unix.NFTA_REJECT_TYPE, uint32(r.Type))
	if r.Type != RejectTCPReset {
		ae.Uint8(unix.NFTA_REJECT_ICMP_CODE, r.Code)
	}
	return nil
}

func (r *Reject) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_REJECT_TYPE:
			r.Type = RejectType(ad.Uint32())
		case unix.NFTA_REJECT_ICMP_CODE:
			r.Code = ad.Uint8()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
