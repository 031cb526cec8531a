package expr

import "golang.org/x/sys/unix"

// Attribute types of fwd beyond NFTA_FWD_SREG_DEV (x/sys/unix lacks them).
const (
	attrFwdSregAddr = 2 // NFTA_FWD_SREG_ADDR
	attrFwdNFProto  = 3 // NFTA_FWD_NFPROTO
)

// Fwd forwards from the netdev ingress to the device in RegDev (nft's `fwd
// to "eth1"`, `fwd ip to 192.0.2.1 device "eth1"` with RegAddr and
// NFProto, unix.NFPROTO_IPV4 or _IPV6, which is sent only with RegAddr).
type Fwd struct {
	RegDev  Register
	RegAddr Register
	NFProto uint32
}

func (f *Fwd) Name() string { return "fwd" }

func (f *Fwd) validate() error {
	if f.RegAddr == 0 && f.NFProto != 0 {
		return invalidf("fwd family %d without an address register", f.NFProto)
	}
	return checkReg("fwd device", f.RegDev, 4, false)
}

func (f *Fwd) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_FWD_SREG_DEV, f.RegDev)
	if f.RegAddr != 0 {
		putReg(ae, attrFwdSregAddr, f.RegAddr)
		ae.U32(attrFwdNFProto, f.NFProto)
	}
	return nil
}

func (f *Fwd) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_FWD_SREG_DEV:
			f.RegDev = getReg(ad)
		case attrFwdSregAddr:
			f.RegAddr = getReg(ad)
		case attrFwdNFProto:
			f.NFProto = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
