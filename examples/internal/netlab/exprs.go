package netlab

import (
	"fmt"
	"strings"

	"github.com/nfkit/nfkit/nft/expr"
)

// Exprs prints rule expressions the way `nft --debug=netlink` shows them
// (one `[ ... ]` per expression): nfkit has no nft-syntax printer yet, and
// this is the view that shows exactly what the kernel holds.
func Exprs(exprs []expr.Any) string {
	parts := make([]string, 0, len(exprs))
	for _, e := range exprs {
		parts = append(parts, "[ "+one(e)+" ]")
	}
	return strings.Join(parts, " ")
}

func reg(r expr.Register) string { return strings.TrimPrefix(r.String(), "reg") }

func one(e expr.Any) string {
	switch e := e.(type) {
	case *expr.Payload:
		if e.SourceRegister != 0 {
			return fmt.Sprintf("payload write reg %s => %db @ %s + %d", reg(e.SourceRegister), e.Len, e.Base, e.Offset)
		}
		return fmt.Sprintf("payload load %db @ %s + %d => reg %s", e.Len, e.Base, e.Offset, reg(e.DestRegister))
	case *expr.Meta:
		if e.SourceRegister != 0 {
			return fmt.Sprintf("meta set %s with reg %s", e.Key, reg(e.SourceRegister))
		}
		return fmt.Sprintf("meta load %s => reg %s", e.Key, reg(e.DestRegister))
	case *expr.Ct:
		if e.SourceRegister != 0 {
			return fmt.Sprintf("ct set %s with reg %s", e.Key, reg(e.SourceRegister))
		}
		return fmt.Sprintf("ct load %s => reg %s", e.Key, reg(e.DestRegister))
	case *expr.Cmp:
		return fmt.Sprintf("cmp %s reg %s 0x%x", e.Op, reg(e.Register), e.Data)
	case *expr.Range:
		return fmt.Sprintf("range %s reg %s 0x%x 0x%x", e.Op, reg(e.Register), e.From, e.To)
	case *expr.Bitwise:
		return fmt.Sprintf("bitwise reg %s = ( reg %s & 0x%x ) ^ 0x%x", reg(e.DestRegister), reg(e.SourceRegister), e.Mask, e.Xor)
	case *expr.Lookup:
		s := fmt.Sprintf("lookup reg %s set %s", reg(e.SourceRegister), e.Set)
		if e.DestRegisterSet {
			s += " dreg " + reg(e.DestRegister)
		}
		if e.Invert {
			s += " 0x1"
		}
		return s
	case *expr.Counter:
		return fmt.Sprintf("counter pkts %d bytes %d", e.Packets, e.Bytes)
	case *expr.Verdict:
		if e.Chain != "" {
			return fmt.Sprintf("immediate reg 0 %s %s", e.Kind, e.Chain)
		}
		return fmt.Sprintf("immediate reg 0 %s", e.Kind)
	case *expr.Immediate:
		return fmt.Sprintf("immediate reg %s 0x%x", reg(e.Register), e.Data)
	case *expr.Numgen:
		return fmt.Sprintf("numgen reg %s = %s mod %d", reg(e.DestRegister), e.Type, e.Modulus)
	case *expr.NAT:
		s := fmt.Sprintf("nat %s", e.Type)
		if e.RegAddrMin != 0 {
			s += " addr_min reg " + reg(e.RegAddrMin)
		}
		if e.RegProtoMin != 0 {
			s += " proto_min reg " + reg(e.RegProtoMin)
		}
		return s
	case *expr.Masq:
		return "masq"
	case *expr.Limit:
		return fmt.Sprintf("limit rate %d/%ds burst %d type %s", e.Rate, e.Unit, e.Burst, e.Type)
	case *expr.Log:
		return fmt.Sprintf("log prefix %s", e.Prefix)
	case *expr.Match:
		return fmt.Sprintf("match name %s rev %d", e.MatchName, e.Rev)
	case *expr.Target:
		return fmt.Sprintf("target name %s rev %d", e.TargetName, e.Rev)
	default:
		return fmt.Sprintf("%s %+v", e.Name(), e)
	}
}
