package expr

import "golang.org/x/sys/unix"

// Dup duplicates the packet to the address in RegAddr via the device in
// RegDev (nft's `dup to 192.0.2.1 device "eth0"`). RegDev needs RegAddr,
// as the kernel's checks do (checkOptRegPair).
type Dup struct {
	RegAddr Register
	RegDev  Register
}

func (d *Dup) Name() string    { return "dup" }
func (d *Dup) validate() error { return checkOptRegPair("dup", d.RegAddr, d.RegDev) }

func (d *Dup) marshal(ae *enc) error {
	if d.RegAddr != 0 {
		putReg(ae, unix.NFTA_DUP_SREG_ADDR, d.RegAddr)
	}
	if d.RegDev != 0 {
		putReg(ae, unix.NFTA_DUP_SREG_DEV, d.RegDev)
	}
	return nil
}

func (d *Dup) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_DUP_SREG_ADDR:
			d.RegAddr = getReg(ad)
		case unix.NFTA_DUP_SREG_DEV:
			d.RegDev = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
