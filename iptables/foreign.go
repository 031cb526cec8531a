package iptables

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// ForeignRule is a rule in an iptables table that iptables-nft would not
// have written: one added with nft (`nft add rule ip filter INPUT ct state
// established accept`), by another tool, or by a later iptables version.
// Reading it as an iptables rule would misstate what it does, so listing
// returns it as it is: where it is, its handle, and its expressions typed
// by package nft/expr (an expression nft/expr cannot type exactly is an
// *expr.Raw). iptables-nft refuses to list such a chain ("incompatible,
// use 'nft' tool"); nfkit lists it with the foreign rules in place, so
// rule numbers stay the kernel's.
type ForeignRule struct {
	Table  string
	Chain  string
	Handle uint64
	// Exprs are the rule's expressions decoded by nft/expr (nil if the
	// expression list itself is malformed; Raw has the bytes then).
	Exprs []expr.Any
	// Raw is the rule's NFTA_RULE_EXPRESSIONS payload as listed: with
	// nft.Rule.SetRawExprs it re-creates the rule byte for byte.
	Raw []byte
	// Reason says why iptables-nft would not have written the rule.
	Reason string
}

// String names the rule; it is not iptables-save text (iptables-nft-save
// prints no line for it, see Save).
func (f *ForeignRule) String() string {
	var b strings.Builder
	b.WriteString("# foreign rule " + f.Table + " " + f.Chain + " handle " + strconv.FormatUint(f.Handle, 10) + ":")
	for _, e := range f.Exprs {
		b.WriteString(" " + e.Name())
	}
	if f.Reason != "" {
		b.WriteString(" (" + f.Reason + ")")
	}
	return b.String()
}

// foreignRule turns a listed rule that did not decode as an iptables rule
// into a Rule carrying a ForeignRule.
func foreignRule(f Family, nr *nft.Rule, why error) *Rule {
	raw := append([]byte(nil), nr.RawExprs()...)
	fr := &ForeignRule{Table: nr.Table, Chain: nr.Chain, Handle: nr.Handle, Raw: raw}
	fr.Exprs, _ = expr.Decode(raw)
	var reason string
	if why != nil {
		reason = why.Error()
		// Keep the decoder's own words, without the error chain's
		// prefixes (ErrForeign and the rule's location are known here).
		if i := strings.LastIndex(reason, ErrForeign.Error()+": "); i >= 0 {
			reason = reason[i+len(ErrForeign.Error())+2:]
		}
	}
	fr.Reason = reason
	return &Rule{Family: f, Table: nr.Table, Chain: nr.Chain, Handle: nr.Handle, Foreign: fr}
}

// listedRule decodes a listed rule for List/AllRules: an iptables rule,
// or for a rule iptables-nft did not write a Rule whose Foreign is set.
func (d *ruleDec) listedRule(f Family, nr *nft.Rule) (*Rule, error) {
	r, err := d.decodeListed(f, nr)
	if errors.Is(err, ErrForeign) {
		return foreignRule(f, nr, err), nil
	}
	return r, err
}
