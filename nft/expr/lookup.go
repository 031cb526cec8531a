package expr

import (
	"golang.org/x/sys/unix"
)

// Lookup looks SourceRegister up in a set (nft's `ip saddr @blocked`,
// `tcp dport { 22, 80 }`); with DestRegisterSet the set is a map and the
// value lands in DestRegister (RegVerdict for a verdict map: `vmap`).
// Invert matches when the key is absent (`!= @set`).
type Lookup struct {
	Set             string
	SetID           uint32 // refers to a set created in the same batch; the kernel never dumps it
	SourceRegister  Register
	DestRegister    Register
	DestRegisterSet bool
	Invert          bool
}

func (l *Lookup) Name() string { return "lookup" }

func (l *Lookup) validate() error {
	if err := checkName("lookup set", l.Set); err != nil {
		return err
	}
	if err := checkReg("lookup source", l.SourceRegister, 1, false); err != nil {
		return err
	}
	if l.DestRegisterSet {
		return checkReg("lookup destination", l.DestRegister, 1, true)
	}
	if l.DestRegister != 0 {
		return invalidf("lookup destination register %s without DestRegisterSet", l.DestRegister)
	}
	return nil
}

// checkName checks an object name (NFT_NAME_MAXLEN 256 including the NUL).
func checkName(field, name string) error {
	if name == "" || len(name) > 255 {
		return invalidf("%s name %q (want 1..255 bytes)", field, name)
	}
	return nil
}

func (l *Lookup) marshal(ae *enc) error {
	ae.String(unix.NFTA_LOOKUP_SET, l.Set)
	if l.SetID != 0 {
		ae.U32(unix.NFTA_LOOKUP_SET_ID, l.SetID)
	}
	putReg(ae, unix.NFTA_LOOKUP_SREG, l.SourceRegister)
	if l.DestRegisterSet {
		putReg(ae, unix.NFTA_LOOKUP_DREG, l.DestRegister)
	}
	var flags uint32
	if l.Invert {
		flags = unix.NFT_LOOKUP_F_INV
	}
	ae.U32(unix.NFTA_LOOKUP_FLAGS, flags)
	return nil
}

func (l *Lookup) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_LOOKUP_SET:
			l.Set = ad.String()
		case unix.NFTA_LOOKUP_SET_ID:
			l.SetID = ad.U32()
		case unix.NFTA_LOOKUP_SREG:
			l.SourceRegister = getReg(ad)
		case unix.NFTA_LOOKUP_DREG:
			l.DestRegister, l.DestRegisterSet = getReg(ad), true
		case unix.NFTA_LOOKUP_FLAGS:
			f := ad.U32()
			if f&^unix.NFT_LOOKUP_F_INV != 0 {
				return errUnknownAttr
			}
			l.Invert = f != 0
		default:
			return errUnknownAttr
		}
	}
	return nil
}
