package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CmpOp is a comparison (enum nft_cmp_ops).
type CmpOp uint32

const (
	CmpEq  CmpOp = unix.NFT_CMP_EQ
	CmpNeq CmpOp = unix.NFT_CMP_NEQ
	CmpLt  CmpOp = unix.NFT_CMP_LT
	CmpLte CmpOp = unix.NFT_CMP_LTE
	CmpGt  CmpOp = unix.NFT_CMP_GT
	CmpGte CmpOp = unix.NFT_CMP_GTE
)

func (o CmpOp) String() string {
	switch o {
	case CmpEq:
		return "=="
	case CmpNeq:
		return "!="
	case CmpLt:
		return "<"
	case CmpLte:
		return "<="
	case CmpGt:
		return ">"
	case CmpGte:
		return ">="
	}
	return fmt.Sprintf("CmpOp(%d)", uint32(o))
}

// Cmp compares len(Data) bytes of Register with Data and breaks the rule
// when the comparison is false (nft's `ip saddr 10.0.0.1`, `tcp dport 22`).
// Data is in the byte order the register holds (network order for
// payload, host order for most meta keys).
type Cmp struct {
	Op       CmpOp
	Register Register
	Data     []byte
}

func (c *Cmp) Name() string { return "cmp" }

func (c *Cmp) validate() error {
	if c.Op > CmpGte {
		return invalidf("cmp op %d", uint32(c.Op))
	}
	if err := checkValue("cmp data", c.Data); err != nil {
		return err
	}
	return checkReg("cmp source", c.Register, len(c.Data), false)
}

func (c *Cmp) marshal(ae *enc) error {
	putReg(ae, unix.NFTA_CMP_SREG, c.Register)
	ae.U32(unix.NFTA_CMP_OP, uint32(c.Op))
	putValue(ae, unix.NFTA_CMP_DATA, c.Data)
	return nil
}

func (c *Cmp) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_CMP_SREG:
			c.Register = getReg(ad)
		case unix.NFTA_CMP_OP:
			c.Op = CmpOp(ad.U32())
		case unix.NFTA_CMP_DATA:
			c.Data = getValue(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
