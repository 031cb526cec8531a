package expr

import "golang.org/x/sys/unix"

// Attribute types (enum nft_tproxy_attributes); x/sys/unix lacks them.
const (
	attrTproxyFamily  = 1 // NFTA_TPROXY_FAMILY
	attrTproxyRegAddr = 2 // NFTA_TPROXY_REG_ADDR
	attrTproxyRegPort = 3 // NFTA_TPROXY_REG_PORT
)

// Tproxy redirects to a local transparent socket (nft's `tproxy ip to
// 127.0.0.1:8080`); Family is unix.NFPROTO_IPV4 / NFPROTO_IPV6, or
// NFPROTO_UNSPEC (0) for an inet rule that gives only a port.
type Tproxy struct {
	Family  uint32
	RegAddr Register
	RegPort Register
}

func (t *Tproxy) Name() string { return "tproxy" }

func (t *Tproxy) validate() error {
	if t.Family != unix.NFPROTO_UNSPEC && t.Family != unix.NFPROTO_IPV4 && t.Family != unix.NFPROTO_IPV6 {
		return invalidf("tproxy family %d", t.Family)
	}
	if t.RegAddr == 0 && t.RegPort == 0 {
		return invalidf("tproxy without address or port register")
	}
	return nil
}

func (t *Tproxy) marshal(ae *enc) error {
	ae.U32(attrTproxyFamily, t.Family)
	if t.RegAddr != 0 {
		putReg(ae, attrTproxyRegAddr, t.RegAddr)
	}
	if t.RegPort != 0 {
		putReg(ae, attrTproxyRegPort, t.RegPort)
	}
	return nil
}

func (t *Tproxy) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrTproxyFamily:
			t.Family = ad.U32()
		case attrTproxyRegAddr:
			t.RegAddr = getReg(ad)
		case attrTproxyRegPort:
			t.RegPort = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
