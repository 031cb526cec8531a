package expr

import "golang.org/x/sys/unix"

// RtKey is enum nft_rt_keys.
type RtKey uint32

const (
	RtClassid  RtKey = unix.NFT_RT_CLASSID  // `rt classid`: the route's realm
	RtNexthop4 RtKey = unix.NFT_RT_NEXTHOP4 // `rt ip nexthop`
	RtNexthop6 RtKey = unix.NFT_RT_NEXTHOP6 // `rt ip6 nexthop`
	RtTCPMSS   RtKey = unix.NFT_RT_TCPMSS   // `rt mtu`: the path's TCP MSS
	RtXfrm     RtKey = 4                    // NFT_RT_XFRM: `rt ipsec exists`
)

func (k RtKey) String() string {
	return enumString(uint32(k), []string{"classid", "ip nexthop", "ip6 nexthop", "mtu", "ipsec"}, "RtKey")
}

// size is what the key loads (the kernel's nft_rt_get_init).
func (k RtKey) size() int {
	switch k {
	case RtNexthop6:
		return 16
	case RtTCPMSS:
		return 2
	case RtXfrm:
		return 1
	}
	return 4
}

// Rt loads routing information (nft's `rt ip nexthop`, `rt mtu`, `rt
// ipsec`).
type Rt struct {
	Key          RtKey
	DestRegister Register
}

func (r *Rt) Name() string { return "rt" }

func (r *Rt) validate() error {
	if r.Key > RtXfrm {
		return invalidf("rt key %d", uint32(r.Key))
	}
	return checkReg("rt destination", r.DestRegister, r.Key.size(), false)
}

func (r *Rt) marshal(ae *enc) error {
	ae.U32(unix.NFTA_RT_KEY, uint32(r.Key))
	putReg(ae, unix.NFTA_RT_DREG, r.DestRegister)
	return nil
}

func (r *Rt) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_RT_KEY:
			r.Key = RtKey(ad.U32())
		case unix.NFTA_RT_DREG:
			r.DestRegister = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
