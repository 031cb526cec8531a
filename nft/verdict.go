package nft

import (
	"fmt"
	"strconv"

	"github.com/nfkit/nfkit/internal/attr"
)

// VerdictCode is a netfilter / nf_tables verdict.
type VerdictCode int32

// Verdict codes (NF_DROP, NF_ACCEPT, NFT_CONTINUE...).
const (
	VerdictDrop     VerdictCode = 0
	VerdictAccept   VerdictCode = 1
	VerdictQueue    VerdictCode = 3
	VerdictContinue VerdictCode = -1
	VerdictBreak    VerdictCode = -2
	VerdictJump     VerdictCode = -3
	VerdictGoto     VerdictCode = -4
	VerdictReturn   VerdictCode = -5
)

func (c VerdictCode) String() string {
	switch c {
	case VerdictDrop:
		return "drop"
	case VerdictAccept:
		return "accept"
	case VerdictQueue:
		return "queue"
	case VerdictContinue:
		return "continue"
	case VerdictBreak:
		return "break"
	case VerdictJump:
		return "jump"
	case VerdictGoto:
		return "goto"
	case VerdictReturn:
		return "return"
	}
	return "verdict(" + strconv.Itoa(int(c)) + ")"
}

// Verdict is a verdict map value: `accept`, `drop`, `jump CHAIN`...
type Verdict struct {
	Code  VerdictCode
	Chain string // for jump and goto
}

func (v Verdict) String() string {
	if v.Chain != "" {
		return v.Code.String() + " " + v.Chain
	}
	return v.Code.String()
}

// Accept, Drop, Return, Jump and Goto build verdicts.
var (
	Accept = Verdict{Code: VerdictAccept}
	Drop   = Verdict{Code: VerdictDrop}
	Return = Verdict{Code: VerdictReturn}
)

// Jump returns `jump chain`.
func Jump(chain string) Verdict { return Verdict{Code: VerdictJump, Chain: chain} }

// Goto returns `goto chain`.
func Goto(chain string) Verdict { return Verdict{Code: VerdictGoto, Chain: chain} }

// enum nft_data_attributes / nft_verdict_attributes
const (
	attrDataValue    = 1 // NFTA_DATA_VALUE
	attrDataVerdict  = 2 // NFTA_DATA_VERDICT
	attrVerdictCode  = 1 // NFTA_VERDICT_CODE
	attrVerdictChain = 2 // NFTA_VERDICT_CHAIN
)

func (v Verdict) validate() error {
	switch v.Code {
	case VerdictJump, VerdictGoto:
		if err := validName("verdict chain", v.Chain); err != nil {
			return err
		}
	case VerdictDrop, VerdictAccept, VerdictContinue, VerdictReturn, VerdictBreak, VerdictQueue:
		if v.Chain != "" {
			return fmt.Errorf("%w: verdict %v with chain %q", ErrInvalid, v.Code, v.Chain)
		}
	default:
		return fmt.Errorf("%w: verdict code %d", ErrInvalid, int32(v.Code))
	}
	return nil
}

func (v Verdict) marshal(e *attr.Writer) {
	n := e.Begin(attrDataVerdict)
	e.U32(attrVerdictCode, uint32(v.Code))
	if v.Chain != "" {
		e.String(attrVerdictChain, v.Chain)
	}
	e.End(n)
}

func (v *Verdict) unmarshal(b []byte) error {
	return attr.Walk(b, func(t uint16, d []byte) error {
		switch t & attr.TypeMask {
		case attrVerdictCode:
			c, err := getU32(d)
			v.Code = VerdictCode(int32(c))
			return err
		case attrVerdictChain:
			v.Chain = getStr(d)
		}
		return nil
	})
}
