package expr

import (
	"golang.org/x/sys/unix"
)

// Immediate loads a constant into a data register (nft's `meta mark set
// 0x10` loads 0x10 first). A verdict is loaded into the verdict register by
// the Verdict expression, which is an immediate too: Decode returns
// *Verdict for those.
type Immediate struct {
	Register Register
	Data     []byte

	verdict *Verdict // set by unmarshal when the data is a verdict: &vd
	vd      Verdict  // saves an allocation per decoded verdict
}

func (i *Immediate) Name() string { return "immediate" }

func (i *Immediate) validate() error {
	if i.verdict != nil {
		return i.verdict.validate()
	}
	if err := checkValue("immediate data", i.Data); err != nil {
		return err
	}
	return checkReg("immediate destination", i.Register, len(i.Data), false)
}

func (i *Immediate) marshal(ae *enc) error {
	if i.verdict != nil {
		return i.verdict.marshal(ae)
	}
	putReg(ae, unix.NFTA_IMMEDIATE_DREG, i.Register)
	putValue(ae, unix.NFTA_IMMEDIATE_DATA, i.Data)
	return nil
}

func (i *Immediate) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_IMMEDIATE_DREG:
			i.Register = getReg(ad)
		case unix.NFTA_IMMEDIATE_DATA:
			v, vd, err := getData(ad, &i.vd)
			if err != nil {
				return err
			}
			i.Data, i.verdict = v, vd
		default:
			return errUnknownAttr
		}
	}
	if i.verdict != nil && i.Register != RegVerdict {
		return errUnknownAttr
	}
	return nil
}
