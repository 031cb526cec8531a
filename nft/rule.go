package nft

import (
	"fmt"

	"github.com/nfkit/nfkit/nft/expr"
)

// Rule is an nf_tables rule (like `nft add rule inet t c tcp dport 22
// accept`).
type Rule struct {
	Family Family
	Table  string
	Chain  string

	// Handle is assigned by the kernel; after a commit that added the rule
	// it is filled in. Replace and Delete address a rule by Handle.
	Handle uint64
	// Position is a rule handle: Add places the rule after it, Insert
	// before it. 0 means the end (Add) or the start (Insert) of the chain.
	// Listed rules have Position 0 (see PrevHandle).
	Position uint64

	Exprs []expr.Any

	// Comment is the rule comment as nft stores it
	// (NFTNL_UDATA_RULE_COMMENT in the user data), shown by `nft list`.
	Comment string
	// UserData is the raw NFTA_RULE_USERDATA; Comment is merged into it on
	// encode, other TLVs (e.g. ebtables policy) are kept.
	UserData []byte

	// Compat is NFTA_RULE_COMPAT, which iptables-nft sends with rules that
	// use xt matches (the kernel does not dump it back).
	Compat *RuleCompat

	// ID is NFTA_RULE_ID, a batch-local id (set automatically when needed).
	ID uint32

	rawExprs   []byte // undecoded expressions (listing with SkipExprs)
	listedPrev uint64 // NFTA_RULE_POSITION of a dump: the previous rule's handle
	extra      []rawAttr
}

// RuleCompat is the protocol and flags iptables-nft attaches to rules with
// xt matches (NFTA_RULE_COMPAT_PROTO / _FLAGS).
type RuleCompat struct {
	Proto uint32
	Flags uint32 // NFT_RULE_COMPAT_F_INV: the protocol match is inverted
}

func (r *Rule) String() string {
	if r.Handle != 0 {
		return fmt.Sprintf("rule %s %s %s handle %d", r.Family, r.Table, r.Chain, r.Handle)
	}
	return fmt.Sprintf("rule %s %s %s", r.Family, r.Table, r.Chain)
}

func (r *Rule) validate() error {
	if !r.Family.valid() {
		return fmt.Errorf("%w: %v: family %v", ErrInvalid, r, r.Family)
	}
	if err := validName("table name", r.Table); err != nil {
		return err
	}
	return validName("chain name", r.Chain)
}

// PrevHandle is the handle of the rule before r in its chain when r was
// listed (0 for the first rule).
func (r *Rule) PrevHandle() uint64 { return r.listedPrev }

// RawExprs returns the undecoded NFTA_RULE_EXPRESSIONS payload of a rule
// listed with SkipExprs (nil otherwise).
func (r *Rule) RawExprs() []byte { return r.rawExprs }

// marshal writes the rule in kernel dump order (nf_tables_fill_rule_info:
// table, chain, handle, position, expressions, userdata). withHandle emits
// the handle even when zero (dump form).
func (r *Rule) marshal(e *enc, withHandle bool) error {
	e.str(attrRuleTable, r.Table)
	e.str(attrRuleChain, r.Chain)
	if withHandle || r.Handle != 0 {
		e.u64(attrRuleHandle, r.Handle)
	}
	switch {
	case r.Position != 0:
		e.u64(attrRulePosition, r.Position)
	case withHandle && r.listedPrev != 0:
		e.u64(attrRulePosition, r.listedPrev)
	}
	switch {
	case r.Exprs != nil:
		b, err := expr.Encode(r.Exprs)
		if err != nil {
			return fmt.Errorf("%v: %w", r, err)
		}
		e.attr(attrRuleExprs, b)
	case r.rawExprs != nil:
		e.attr(attrRuleExprs, r.rawExprs)
	}
	if r.Compat != nil {
		n := e.begin(attrRuleCompat)
		e.u32(attrRuleCompatProto, r.Compat.Proto)
		e.u32(attrRuleCompatFlags, r.Compat.Flags)
		e.end(n)
	}
	ud, err := udataWithComment(r.UserData, udataRuleComment, r.Comment)
	if err != nil {
		return fmt.Errorf("%v: %w", r, err)
	}
	if ud != nil {
		e.attr(attrRuleUserdata, ud)
	}
	if r.ID != 0 {
		e.u32(attrRuleID, r.ID)
	}
	e.raw(r.extra)
	return nil
}

// unmarshal decodes a rule; with skipExprs the expression list is kept
// as bytes only.
func (r *Rule) unmarshal(family Family, b []byte, skipExprs bool) error {
	var rd ruleDecoder
	return rd.decode(r, family, b, skipExprs)
}

// ruleDecoder decodes the rules of one dump. It reuses the expression
// decoder's buffers and the table and chain name strings of the previous
// rule (a dump returns a chain's rules one after the other), so a listed
// rule costs its own struct, its expressions and their values.
type ruleDecoder struct {
	exprs        expr.Decoder
	table, chain string
}

func (rd *ruleDecoder) name(prev *string, d []byte) string {
	d = trimNUL(d)
	if string(d) != *prev { // no allocation for the comparison
		*prev = string(d)
	}
	return *prev
}

func (rd *ruleDecoder) decode(r *Rule, family Family, b []byte, skipExprs bool) error {
	r.Family = family
	it := attrs{b: b}
	for it.next() {
		typ, d := it.typ, it.data
		var err error
		switch typ & nlaTypeMask {
		case attrRuleTable:
			r.Table = rd.name(&rd.table, d)
		case attrRuleChain:
			r.Chain = rd.name(&rd.chain, d)
		case attrRuleHandle:
			r.Handle, err = getU64(d)
		case attrRulePosition:
			// Dumps carry the handle of the previous rule here. It is
			// not a request for a position: keeping it in Position would
			// make re-adding the listed rule elsewhere fail with ENOENT.
			r.listedPrev, err = getU64(d)
		case attrRuleExprs:
			if skipExprs {
				r.rawExprs = clone(d)
				continue
			}
			r.Exprs, err = rd.exprs.Decode(d)
			if err == nil && r.Exprs == nil {
				r.Exprs = []expr.Any{}
			}
		case attrRuleUserdata:
			r.UserData = clone(d)
			r.Comment = udataComment(d, udataRuleComment)
		case attrRuleCompat:
			r.Compat = &RuleCompat{}
			err = walk(d, func(t uint16, d []byte) error {
				var err error
				switch t & nlaTypeMask {
				case attrRuleCompatProto:
					r.Compat.Proto, err = getU32(d)
				case attrRuleCompatFlags:
					r.Compat.Flags, err = getU32(d)
				}
				return err
			})
		case attrRuleID:
			r.ID, err = getU32(d)
		case attrRulePad:
		default:
			r.extra = append(r.extra, rawAttr{typ, clone(d)})
		}
		if err != nil {
			return err
		}
	}
	return it.err
}
