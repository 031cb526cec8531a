package iptables

import (
	"context"
	"errors"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/nft"
)

// Batch collects changes applied by Commit as ONE nf_tables transaction:
// all of them apply or none does. Building a batch does no I/O; every
// method validates its input and queues nothing when it returns an error.
// A Batch is not safe for concurrent use.
//
// A Batch is a list of package nft operations (tables, chains, rules whose
// expressions this package encodes in iptables-nft's exact bytes, see
// nft.Rule.SetRawExprs). AppendTo adds them to an nft.Batch, so one
// transaction can mix iptables rules and native nf_tables objects.
//
// Operations that need to know what is in the kernel (insert at a
// position, delete by specification or number, rename, zero) are methods
// of Conn, which reads the chain first.
type Batch struct {
	ops     []bop
	created map[string]bool
	// line is the restore input line the next operation comes from (0
	// outside Restore), so a kernel error names the line.
	line   int
	ruleID uint32
	// compat holds the NFTA_RULE_COMPAT values rules share (one per
	// protocol and inversion): nft only reads them.
	compat map[uint32]*nft.RuleCompat
}

type opKind uint8

const (
	opAddTable opKind = iota
	opDelTable
	opAddChain    // NEWCHAIN with NLM_F_CREATE: create or update
	opCreateChain // ... and NLM_F_EXCL
	opDelChain
	opFlushChain
	opFlushTable
	opRenameChain
	opAppendRule
	opInsertRule
	opReplaceRule
	opDelRule
)

// bop is one queued operation. Rules refer to each other by batch-local
// ids (id, posID); AppendTo turns them into NFTA_RULE_ID values.
type bop struct {
	kind    opKind
	line    int
	table   *nft.Table
	chain   *nft.Chain
	rule    *nft.Rule
	newName string
	exprs   []byte   // the rule's expressions (nr holds them too)
	fix     []setFix // set indexes still to fill into exprs (Conn.ResolveSets)
	id      uint32   // the rule's local id (new rules; deletes by id)
	posID   uint32   // the local id of the rule to place it next to
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{created: map[string]bool{}} }

// Len is the number of nf_tables operations queued.
func (b *Batch) Len() int { return len(b.ops) }

func (b *Batch) push(o bop) {
	if b.created == nil {
		b.created = map[string]bool{}
	}
	o.line = b.line
	b.ops = append(b.ops, o)
}

func tableKey(f Family, table string) string { return f.String() + " " + table }

// ensure adds the table and, for a built-in chain, the chain, the way
// iptables-nft does on first use (NLM_F_CREATE, no EXCL: a no-op if they
// exist). Unlike iptables-nft, which consults its cache, the chain message
// carries no policy, so an existing DROP policy is left alone; a new chain
// gets the kernel default ACCEPT, which is what iptables-nft sets.
func (b *Batch) ensure(f Family, table, chain string) error {
	bt, ok := builtins[table]
	if !ok {
		return invalid("table %q", table)
	}
	key := tableKey(f, table)
	if !b.created[key] {
		b.push(bop{kind: opAddTable, table: &nft.Table{Family: nft.Family(f), Name: table}})
		b.created[key] = true
	}
	bc, isBuiltin := bt[chain]
	if !isBuiltin || b.created[key+"/"+chain] {
		return nil
	}
	b.push(bop{kind: opAddChain, chain: builtinChain(f, table, chain, bc, "", nil)})
	b.created[key+"/"+chain] = true
	return nil
}

// builtinChain is a base chain as iptables-nft creates or updates it.
// policy "" leaves the policy out; counters nil leaves the chain without
// kernel counters (as `iptables -A` creates it), non-nil sets them (as a
// restore `:CHAIN` line does, always).
func builtinChain(f Family, table, chain string, bc builtin, policy string, counters *Counters) *nft.Chain {
	c := &nft.Chain{Family: nft.Family(f), Table: table, Name: chain, Type: nft.ChainType(bc.ctype),
		Hook: nft.HookPrerouting + nft.Hook(bc.hook), Priority: bc.prio}
	switch policy {
	case "ACCEPT":
		c.Policy = nft.PolicyAccept
	case "DROP":
		c.Policy = nft.PolicyDrop
	}
	if counters != nil {
		c.WriteCounters = true
		c.Counters = nft.Counters{Packets: counters.Packets, Bytes: counters.Bytes}
	}
	return c
}

// targetTables are the tables a target may be used in.
var targetTables = map[string][]string{
	"DNAT": {"nat"}, "SNAT": {"nat"}, "MASQUERADE": {"nat"}, "REDIRECT": {"nat"}, "NETMAP": {"nat"},
	"DSCP": {"mangle"}, "TOS": {"mangle"}, "TTL": {"mangle"}, "HL": {"mangle"}, "CHECKSUM": {"mangle"},
	"CLASSIFY": {"mangle"}, "CT": {"raw"}, "TPROXY": {"mangle"},
}

func checkTargetTable(r *Rule) error {
	if r.Target == nil {
		return nil
	}
	ok, limited := targetTables[r.Target.Name()]
	if !limited {
		return nil
	}
	for _, t := range ok {
		if t == r.table() {
			return nil
		}
	}
	return invalid("target %s is not valid in table %s", r.Target.Name(), r.table())
}

// ruleExprs validates r and returns its NFTA_RULE_EXPRESSIONS payload,
// with IPSET_INVALID_ID for set names not looked up yet (ruleExprsFix
// says where).
func ruleExprs(f Family, r *Rule) ([]byte, error) {
	b, _, err := ruleExprsFix(f, r)
	return b, err
}

// ruleExprsFix is ruleExprs also returning the set indexes to fill in.
func ruleExprsFix(f Family, r *Rule) ([]byte, []setFix, error) {
	if !f.valid() {
		return nil, nil, invalid("family %d", f)
	}
	if _, ok := builtins[r.table()]; !ok {
		return nil, nil, invalid("table %q", r.table())
	}
	if err := checkChainName(r.Chain); err != nil {
		return nil, nil, invalid("%v", err)
	}
	if r.Foreign != nil {
		return nil, nil, invalid("rule %s %s handle %d was not written by iptables-nft (Foreign): it has no iptables form; use package nft with Foreign.Raw", r.Foreign.Table, r.Foreign.Chain, r.Foreign.Handle)
	}
	if err := checkTargetTable(r); err != nil {
		return nil, nil, err
	}
	// 512 bytes hold a typical rule (kube-proxy's are 200-450): one
	// allocation instead of a chain of growing copies.
	e := enc{w: attr.Writer{Buf: make([]byte, 0, 512)}}
	if err := e.rule(f, r); err != nil {
		return nil, nil, err
	}
	if err := e.w.Err(); err != nil { // an extension's info past the u16 attribute length
		return nil, nil, invalid("rule: %v", err)
	}
	return e.w.Buf, e.fix, nil
}

// rulePos says where a new rule goes: after (append) or before (insert)
// the rule with handle Handle or batch id ID; zero values mean the end
// (append) or the start (insert) of the chain. Replace replaces the rule
// with handle Handle.
type rulePos struct {
	Append  bool
	Replace bool
	Handle  uint64
	ID      uint32
}

// compatFor returns the shared NFTA_RULE_COMPAT value for r. iptables-nft
// 1.8.9 attaches it to every rule (nft_ipv4_add / nft_ipv6_add).
func (b *Batch) compatFor(r *Rule) *nft.RuleCompat {
	var flags uint32
	if r.ProtoInvert {
		flags = 2 // NFT_RULE_COMPAT_F_INV
	}
	k := uint32(r.Protocol)<<8 | flags
	if c, ok := b.compat[k]; ok {
		return c
	}
	if b.compat == nil {
		b.compat = map[uint32]*nft.RuleCompat{}
	}
	c := &nft.RuleCompat{Proto: uint32(r.Protocol), Flags: flags}
	b.compat[k] = c
	return c
}

// newRule queues r with its encoded expressions; it returns the
// batch-local rule id, which later operations of the same batch use to
// refer to the rule.
func (b *Batch) newRule(f Family, r *Rule, exprs []byte, fix []setFix, pos rulePos) (uint32, error) {
	if err := b.ensure(f, r.table(), r.Chain); err != nil {
		return 0, err
	}
	nr := &nft.Rule{Family: nft.Family(f), Table: r.table(), Chain: r.Chain, Compat: b.compatFor(r)}
	nr.SetRawExprs(exprs)
	o := bop{kind: opInsertRule, rule: nr, exprs: exprs, fix: fix}
	switch {
	case pos.Replace:
		o.kind = opReplaceRule
		nr.Handle = pos.Handle
	case pos.Append:
		o.kind = opAppendRule
	}
	if !pos.Replace {
		if pos.Handle != 0 {
			nr.Position = pos.Handle
		} else {
			o.posID = pos.ID
		}
	}
	b.ruleID++
	o.id = b.ruleID
	b.push(o)
	return o.id, nil
}

// delRule queues the deletion of the rule with handle h, or of the rule
// added earlier in this batch with id.
func (b *Batch) delRule(f Family, table, chain string, h uint64, id uint32) {
	o := bop{kind: opDelRule, rule: &nft.Rule{Family: nft.Family(f), Table: table, Chain: chain, Handle: h}}
	if h == 0 {
		o.id = id
	}
	b.push(o)
}

// Append adds r at the end of its chain, like `iptables -t TABLE -A CHAIN
// ...`. Errors about the rule are returned at once and nothing is queued.
func (b *Batch) Append(f Family, r *Rule) error {
	exprs, fix, err := ruleExprsFix(f, r)
	if err != nil {
		return err
	}
	_, err = b.newRule(f, r, exprs, fix, rulePos{Append: true})
	return err
}

// InsertFirst adds r at the start of its chain, like `iptables -I CHAIN
// ...` (position 1). Other positions need the chain's contents: see
// Conn.Insert.
func (b *Batch) InsertFirst(f Family, r *Rule) error {
	exprs, fix, err := ruleExprsFix(f, r)
	if err != nil {
		return err
	}
	_, err = b.newRule(f, r, exprs, fix, rulePos{})
	return err
}

// DeleteRuleHandle deletes the rule with nf_tables handle h (as listed by
// Conn.ListRules in Rule.Handle), like `nft delete rule ... handle H`.
func (b *Batch) DeleteRuleHandle(f Family, table, chain string, h uint64) error {
	if err := checkTableChain(f, table, chain); err != nil {
		return err
	}
	if h == 0 {
		return invalid("rule handle 0")
	}
	b.delRule(f, table, chain, h, 0)
	return nil
}

func checkTableChain(f Family, table, chain string) error {
	if !f.valid() {
		return invalid("family %d", f)
	}
	if _, ok := builtins[table]; !ok {
		return invalid("table %q", table)
	}
	if err := checkChainName(chain); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// RuleIDBase is the lowest NFTA_RULE_ID that AppendTo gives the rules of
// an iptables Batch: rule ids chosen by the caller for native rules of
// the same nft.Batch must stay below it.
const RuleIDBase = 1 << 31

// AppendTo adds the batch's operations, in order, to nb, so that they
// commit in nb's transaction together with whatever else nb holds
// (native nft tables, sets, rules). Rules of this batch that refer to
// each other (an insert before a rule of the same batch, a delete of
// one) use NFTA_RULE_IDs from RuleIDBase upwards, distinct for every
// Batch appended to the same nb. b itself is not changed and can be
// appended again or committed.
func (b *Batch) AppendTo(nb *nft.Batch) {
	b.appendTo(nb, RuleIDBase|uint32(nb.Len()))
}

// appendTo adds the operations to nb with rule ids base+local id.
func (b *Batch) appendTo(nb *nft.Batch, base uint32) {
	id := func(local uint32) uint32 {
		if local == 0 {
			return 0
		}
		return base + local
	}
	for i := range b.ops {
		o := &b.ops[i]
		switch o.kind {
		case opAddTable:
			nb.AddTable(o.table)
		case opDelTable:
			nb.DeleteTable(o.table)
		case opAddChain:
			nb.AddChain(o.chain)
		case opCreateChain:
			nb.CreateChain(o.chain)
		case opDelChain:
			nb.DeleteChain(o.chain)
		case opFlushChain:
			nb.FlushChain(o.chain)
		case opFlushTable:
			nb.FlushTable(o.table)
		case opRenameChain:
			nb.RenameChain(o.chain, o.newName)
		case opAppendRule, opInsertRule, opReplaceRule:
			o.rule.ID, o.rule.PositionID = id(o.id), id(o.posID)
			switch o.kind {
			case opAppendRule:
				nb.AddRule(o.rule)
			case opInsertRule:
				nb.InsertRule(o.rule)
			default:
				nb.ReplaceRule(o.rule)
			}
		case opDelRule:
			o.rule.ID = id(o.id)
			nb.DeleteRule(o.rule)
		}
	}
}

// Commit applies the batch as one atomic nf_tables transaction: all of it
// or, on error, nothing. The batch is emptied after a successful commit.
// To commit iptables changes together with native nf_tables ones, use
// AppendTo and nft.Batch.Commit instead.
func (c *Conn) Commit(ctx context.Context, b *Batch) error {
	if len(b.ops) == 0 {
		return nil
	}
	if err := c.ResolveSets(ctx, b); err != nil {
		return err
	}
	nb := c.n.NewBatch()
	nb.NoEcho = true // iptables needs no handles back; echoes cost a reply per rule
	b.appendTo(nb, 0)
	if err := nb.Commit(ctx); err != nil {
		var ne *nlconn.Error
		if errors.As(err, &ne) && ne.Index >= 0 && ne.Index < len(b.ops) && b.ops[ne.Index].line > 0 {
			return &LineError{Line: b.ops[ne.Index].line, Err: err}
		}
		return err
	}
	*b = Batch{created: map[string]bool{}}
	return nil
}
