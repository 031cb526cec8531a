package expr

import (
	"golang.org/x/sys/unix"
)

// Range matches when Register lies within [From, To] (nft's `tcp dport
// 1000-2000`), or outside with Op CmpNeq. Only CmpEq and CmpNeq exist
// (enum nft_range_ops).
type Range struct {
	Op       CmpOp
	Register Register
	From, To []byte
}

func (r *Range) Name() string { return "range" }

func (r *Range) validate() error {
	if r.Op != CmpEq && r.Op != CmpNeq {
		return invalidf("range op %s (want == or !=)", r.Op)
	}
	if err := checkValue("range from", r.From); err != nil {
		return err
	}
	if len(r.To) != len(r.From) {
		return invalidf("range from of %d bytes and to of %d bytes", len(r.From), len(r.To))
	}
	return checkReg("range source", r.Register, len(r.From), false)
}

func (r *Range) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_RANGE_SREG, r.Register)
	ae.U32(unix.NFTA_RANGE_OP, uint32(r.Op))
	putValue(ae, unix.NFTA_RANGE_FROM_DATA, r.From)
	putValue(ae, unix.NFTA_RANGE_TO_DATA, r.To)
	return nil
}

func (r *Range) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_RANGE_SREG:
			r.Register = getReg(ad)
		case unix.NFTA_RANGE_OP:
			r.Op = CmpOp(ad.U32())
		case unix.NFTA_RANGE_FROM_DATA:
			r.From = getValue(ad)
		case unix.NFTA_RANGE_TO_DATA:
			r.To = getValue(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
