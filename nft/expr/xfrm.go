package expr

// XfrmKey is enum nft_xfrm_keys.
type XfrmKey uint32

const (
	XfrmDaddrIP4 XfrmKey = 1 // NFT_XFRM_KEY_DADDR_IP4: `ipsec in ip daddr`
	XfrmDaddrIP6 XfrmKey = 2 // NFT_XFRM_KEY_DADDR_IP6
	XfrmSaddrIP4 XfrmKey = 3 // NFT_XFRM_KEY_SADDR_IP4
	XfrmSaddrIP6 XfrmKey = 4 // NFT_XFRM_KEY_SADDR_IP6
	XfrmReqid    XfrmKey = 5 // NFT_XFRM_KEY_REQID: `ipsec in reqid 1`
	XfrmSPI      XfrmKey = 6 // NFT_XFRM_KEY_SPI: `ipsec out spi 0x100`
)

func (k XfrmKey) String() string {
	return enumString(uint32(k), []string{"", "ip daddr", "ip6 daddr", "ip saddr", "ip6 saddr", "reqid", "spi"}, "XfrmKey")
}

// size is what the key loads (the kernel's nft_xfrm_get_init).
func (k XfrmKey) size() int {
	if k == XfrmDaddrIP6 || k == XfrmSaddrIP6 {
		return 16
	}
	return 4
}

// XfrmDir is the policy direction an Xfrm reads (XFRM_POLICY_IN/OUT).
type XfrmDir uint8

const (
	XfrmIn  XfrmDir = 0 // XFRM_POLICY_IN: `ipsec in`, the state the packet was decrypted with
	XfrmOut XfrmDir = 1 // XFRM_POLICY_OUT: `ipsec out`, the state it will be encrypted with
)

func (d XfrmDir) String() string { return enumString(uint32(d), []string{"in", "out"}, "XfrmDir") }

// Attribute types (enum nft_xfrm_attributes); x/sys/unix lacks them.
const (
	attrXfrmDreg  = 1 // NFTA_XFRM_DREG
	attrXfrmKey   = 2 // NFTA_XFRM_KEY
	attrXfrmDir   = 3 // NFTA_XFRM_DIR
	attrXfrmSPNum = 4 // NFTA_XFRM_SPNUM
)

// Xfrm loads IPsec state (nft's `ipsec in reqid 1`, `ipsec out ip
// daddr`); SPNum is the state's position in the security path (`ipsec in
// spnum 1`).
type Xfrm struct {
	DestRegister Register
	Key          XfrmKey
	Dir          XfrmDir
	SPNum        uint32
}

func (x *Xfrm) Name() string { return "xfrm" }

func (x *Xfrm) validate() error {
	if x.Key == 0 || x.Key > XfrmSPI || x.Dir > XfrmOut {
		return invalidf("xfrm key %d dir %d", uint32(x.Key), uint8(x.Dir))
	}
	return checkReg("xfrm destination", x.DestRegister, x.Key.size(), false)
}

func (x *Xfrm) marshal(ae *enc) error {
	putReg(ae, attrXfrmDreg, x.DestRegister)
	ae.U32(attrXfrmKey, uint32(x.Key))
	ae.U8(attrXfrmDir, uint8(x.Dir))
	ae.U32(attrXfrmSPNum, x.SPNum)
	return nil
}

func (x *Xfrm) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrXfrmDreg:
			x.DestRegister = getReg(ad)
		case attrXfrmKey:
			x.Key = XfrmKey(ad.U32())
		case attrXfrmDir:
			x.Dir = XfrmDir(ad.U8())
		case attrXfrmSPNum:
			x.SPNum = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
