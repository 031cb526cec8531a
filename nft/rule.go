package nft

import (
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
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

	// ID is NFTA_RULE_ID, a batch-local id chosen by the caller (any
	// non-zero value unique among the rules of one batch). Later operations
	// of the same batch refer to the rule by it before it has a handle:
	// PositionID of another rule, or DeleteRule with Handle 0.
	ID uint32
	// PositionID places the rule next to the rule with that ID added
	// earlier in the same batch (NFTA_RULE_POSITION_ID): after it for
	// AddRule, before it for InsertRule. iptables-nft-restore uses it for
	// `-I CHAIN N` when rule N was added by the same restore. Position and
	// PositionID are exclusive.
	PositionID uint32

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
	if err := validName("chain name", r.Chain); err != nil {
		return err
	}
	if r.Position != 0 && r.PositionID != 0 {
		return fmt.Errorf("%w: %v: position %d and position id %d both given", ErrInvalid, r, r.Position, r.PositionID)
	}
	if r.Exprs != nil && r.rawExprs != nil {
		return fmt.Errorf("%w: %v: both Exprs and raw expressions (SetRawExprs) given", ErrInvalid, r)
	}
	if r.Exprs == nil && r.rawExprs != nil {
		return checkRawExprs(r)
	}
	return nil
}

// SetRawExprs makes b the rule's NFTA_RULE_EXPRESSIONS payload, sent
// byte for byte (Exprs must be nil). It is for callers that encode
// expressions themselves, such as package iptables, which builds the exact
// bytes iptables-nft sends (nests without NLA_F_NESTED, xt match/target
// info structs) on its hot path: b must be a list of NFTA_LIST_ELEM nests,
// each holding NFTA_EXPR_NAME; Commit checks that much and nothing more.
// The rule keeps b (no copy). nil clears it.
func (r *Rule) SetRawExprs(b []byte) { r.rawExprs = b }

// checkRawExprs checks the framing of a raw expression list: every
// attribute an NFTA_LIST_ELEM whose payload names an expression.
func checkRawExprs(r *Rule) error {
	it := attr.NewIter(r.rawExprs)
	n := 0
	for it.Next() {
		if it.Kind() != 1 { // NFTA_LIST_ELEM
			return fmt.Errorf("%w: %v: raw expression %d: attribute type %d, want NFTA_LIST_ELEM", ErrInvalid, r, n, it.Kind())
		}
		named := false
		in := attr.NewIter(it.Data())
		for in.Next() {
			named = named || (in.Kind() == 1 && len(in.Data()) > 1) // NFTA_EXPR_NAME
		}
		if in.Err() != nil || !named {
			return fmt.Errorf("%w: %v: raw expression %d has no name", ErrInvalid, r, n)
		}
		n++
	}
	if it.Err() != nil {
		return fmt.Errorf("%w: %v: raw expressions: %v", ErrInvalid, r, it.Err())
	}
	return nil
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
func (r *Rule) marshal(e *attr.Writer, withHandle bool) error {
	e.String(attrRuleTable, r.Table)
	e.String(attrRuleChain, r.Chain)
	if withHandle || r.Handle != 0 {
		e.U64(attrRuleHandle, r.Handle)
	}
	switch {
	case r.Position != 0:
		e.U64(attrRulePosition, r.Position)
	case withHandle && r.listedPrev != 0:
		e.U64(attrRulePosition, r.listedPrev)
	}
	switch {
	case r.Exprs != nil:
		b, err := expr.Encode(r.Exprs)
		if err != nil {
			return fmt.Errorf("%v: %w", r, err)
		}
		e.Bytes(attrRuleExprs, b)
	case r.rawExprs != nil:
		e.Bytes(attrRuleExprs, r.rawExprs)
	}
	if r.Compat != nil {
		n := e.Begin(attrRuleCompat)
		e.U32(attrRuleCompatProto, r.Compat.Proto)
		e.U32(attrRuleCompatFlags, r.Compat.Flags)
		e.End(n)
	}
	ud, err := udataWithComment(r.UserData, udataRuleComment, r.Comment)
	if err != nil {
		return fmt.Errorf("%v: %w", r, err)
	}
	if ud != nil {
		e.Bytes(attrRuleUserdata, ud)
	}
	if r.ID != 0 {
		e.U32(attrRuleID, r.ID)
	}
	if r.PositionID != 0 {
		e.U32(attrRulePositionID, r.PositionID)
	}
	putRaw(e, r.extra)
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
	it := attr.NewIter(b)
	for it.Next() {
		typ, d := it.Type(), it.Data()
		var err error
		switch typ & attr.TypeMask {
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
			err = attr.Walk(d, func(t uint16, d []byte) error {
				var err error
				switch t & attr.TypeMask {
				case attrRuleCompatProto:
					r.Compat.Proto, err = getU32(d)
				case attrRuleCompatFlags:
					r.Compat.Flags, err = getU32(d)
				}
				return err
			})
		case attrRuleID:
			r.ID, err = getU32(d)
		case attrRulePositionID:
			r.PositionID, err = getU32(d)
		case attrRulePad:
		default:
			r.extra = append(r.extra, rawAttr{typ, clone(d)})
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}
