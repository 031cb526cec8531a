package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NumgenType is enum nft_ng_types.
type NumgenType uint32

const (
	NumgenIncremental NumgenType = unix.NFT_NG_INCREMENTAL
	NumgenRandom      NumgenType = unix.NFT_NG_RANDOM
)

func (t NumgenType) String() string {
	switch t {
	case NumgenIncremental:
		return "inc"
	case NumgenRandom:
		return "random"
	}
	return fmt.Sprintf("NumgenType(%d)", uint32(t))
}

// Numgen writes a number in [Offset, Offset+Modulus) to DestRegister
// (nft's `numgen inc mod 2`, `numgen random mod 10 offset 5`), typically the
// key of a map lookup for load balancing.
type Numgen struct {
	DestRegister Register
	Modulus      uint32
	Type         NumgenType
	Offset       uint32
}

func (n *Numgen) Name() string { return "numgen" }

func (n *Numgen) validate() error {
	if n.Modulus == 0 {
		return invalidf("numgen modulus 0")
	}
	if n.Type > NumgenRandom {
		return invalidf("numgen type %d", uint32(n.Type))
	}
	return checkReg("numgen destination", n.DestRegister, 4, false)
}

func (n *Numgen) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_NG_DREG, n.DestRegister)
	ae.U32(unix.NFTA_NG_MODULUS, n.Modulus)
	ae.U32(unix.NFTA_NG_TYPE, uint32(n.Type))
	ae.U32(unix.NFTA_NG_OFFSET, n.Offset)
	return nil
}

func (n *Numgen) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_NG_DREG:
			n.DestRegister = getReg(ad)
		case unix.NFTA_NG_MODULUS:
			n.Modulus = ad.U32()
		case unix.NFTA_NG_TYPE:
			n.Type = NumgenType(ad.U32())
		case unix.NFTA_NG_OFFSET:
			n.Offset = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
