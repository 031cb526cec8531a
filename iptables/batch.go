package iptables

import (
	"context"
	"errors"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Batch collects changes applied by Commit as ONE nf_tables transaction:
// all of them apply or none does. Building a batch does no I/O; every
// method validates its input and queues nothing when it returns an error.
// A Batch is not safe for concurrent use.
//
// Operations that need to know what is in the kernel (insert at a
// position, delete by specification or number, rename, zero) are methods
// of Conn, which reads the chain first.
type Batch struct {
	msgs    []netlink.Message
	created map[string]bool
	// lines tags every message with the restore input line that made it
	// (0 outside Restore), so a kernel error names the line.
	lines  []int
	line   int
	ruleID uint32
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{created: map[string]bool{}} }

// Len is the number of netlink messages queued.
func (b *Batch) Len() int { return len(b.msgs) }

func (b *Batch) push(m netlink.Message) {
	if b.created == nil {
		b.created = map[string]bool{}
	}
	b.msgs = append(b.msgs, m)
	b.lines = append(b.lines, b.line)
}

func msg(cmd uint8, flags netlink.HeaderFlags, f Family, fn func(ae *netlink.AttributeEncoder)) netlink.Message {
	ae := attr.NewEncoder()
	fn(ae)
	b, _ := ae.Encode()
	return nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, cmd, flags, nfnl.Header{Family: uint8(f)}, b)
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
		b.push(msg(unix.NFT_MSG_NEWTABLE, netlink.Create, f, func(ae *netlink.AttributeEncoder) {
			ae.String(unix.NFTA_TABLE_NAME, table)
		}))
		b.created[key] = true
	}
	bc, isBuiltin := bt[chain]
	if !isBuiltin || b.created[key+"/"+chain] {
		return nil
	}
	b.push(builtinChainMsg(f, table, chain, bc, "", nil))
	b.created[key+"/"+chain] = true
	return nil
}

// builtinChainMsg creates or updates a base chain. policy "" leaves the
// policy out; counters nil leaves the chain without kernel counters (as
// `iptables -A` creates it), non-nil sets them (as a restore `:CHAIN` line
// does, always).
func builtinChainMsg(f Family, table, chain string, bc builtin, policy string, counters *Counters) netlink.Message {
	return msg(unix.NFT_MSG_NEWCHAIN, netlink.Create, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_CHAIN_TABLE, table)
		ae.String(unix.NFTA_CHAIN_NAME, chain)
		nest(ae, unix.NFTA_CHAIN_HOOK, func(h *netlink.AttributeEncoder) error {
			h.Uint32(unix.NFTA_HOOK_HOOKNUM, bc.hook)
			h.Uint32(unix.NFTA_HOOK_PRIORITY, uint32(bc.prio))
			return nil
		})
		switch policy {
		case "ACCEPT":
			ae.Uint32(unix.NFTA_CHAIN_POLICY, 1)
		case "DROP":
			ae.Uint32(unix.NFTA_CHAIN_POLICY, 0)
		}
		ae.String(unix.NFTA_CHAIN_TYPE, bc.ctype)
		if counters != nil {
			nest(ae, unix.NFTA_CHAIN_COUNTERS, func(c *netlink.AttributeEncoder) error {
				c.Uint64(unix.NFTA_COUNTER_BYTES, counters.Bytes)
				c.Uint64(unix.NFTA_COUNTER_PACKETS, counters.Packets)
				return nil
			})
		}
	})
}

// targetTables are the tables a target may be used in.
var targetTables = map[string][]string{
	"DNAT": {"nat"}, "SNAT": {"nat"}, "MASQUERADE": {"nat"}, "REDIRECT": {"nat"}, "NETMAP": {"nat"},
	"DSCP": {"mangle"}, "TOS": {"mangle"}, "TTL": {"mangle"}, "HL": {"mangle"}, "CHECKSUM": {"mangle"},
	"CLASSIFY": {"mangle"}, "CT": {"raw"},
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

// ruleExprs validates r and returns its NFTA_RULE_EXPRESSIONS payload.
func ruleExprs(f Family, r *Rule) ([]byte, error) {
	if !f.valid() {
		return nil, invalid("family %d", f)
	}
	if _, ok := builtins[r.table()]; !ok {
		return nil, invalid("table %q", r.table())
	}
	if err := checkChainName(r.Chain); err != nil {
		return nil, invalid("%v", err)
	}
	if err := checkTargetTable(r); err != nil {
		return nil, err
	}
	var e enc
	if err := e.rule(f, r); err != nil {
		return nil, err
	}
	return e.w.b, nil
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

// newRule queues r; it returns the batch-local rule id (NFTA_RULE_ID),
// which later operations of the same batch use to refer to the rule.
func (b *Batch) newRule(f Family, r *Rule, exprs []byte, pos rulePos) (uint32, error) {
	if err := b.ensure(f, r.table(), r.Chain); err != nil {
		return 0, err
	}
	var compatFlags uint32
	if r.ProtoInvert {
		compatFlags = 2 // NFT_RULE_COMPAT_F_INV
	}
	flags := netlink.Create
	switch {
	case pos.Replace:
		flags = netlink.Replace
	case pos.Append:
		flags |= netlink.Append
	}
	b.ruleID++
	id := b.ruleID
	var w nlw
	w.b = make([]byte, 0, len(exprs)+128)
	w.str(unix.NFTA_RULE_TABLE, r.table())
	w.str(unix.NFTA_RULE_CHAIN, r.Chain)
	if pos.Replace {
		w.u64(unix.NFTA_RULE_HANDLE, pos.Handle)
	} else if pos.Handle != 0 {
		w.u64(unix.NFTA_RULE_POSITION, pos.Handle)
	}
	w.bytes(unix.NFTA_RULE_EXPRESSIONS, exprs)
	n := w.begin(unix.NFTA_RULE_COMPAT)
	w.u32(unix.NFTA_RULE_COMPAT_PROTO, uint32(r.Protocol))
	w.u32(unix.NFTA_RULE_COMPAT_FLAGS, compatFlags)
	w.end(n)
	w.u32(unix.NFTA_RULE_ID, id)
	if pos.ID != 0 && !pos.Replace {
		w.u32(nftaRulePositionID, pos.ID)
	}
	b.push(nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_NEWRULE, flags, nfnl.Header{Family: uint8(f)}, w.b))
	return id, nil
}

// nftaRulePositionID is NFTA_RULE_POSITION_ID (not in x/sys/unix).
const nftaRulePositionID = 10

// delRule queues the deletion of the rule with handle h, or of the rule
// added earlier in this batch with id.
func (b *Batch) delRule(f Family, table, chain string, h uint64, id uint32) {
	b.push(msg(unix.NFT_MSG_DELRULE, 0, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_RULE_TABLE, table)
		ae.String(unix.NFTA_RULE_CHAIN, chain)
		if h != 0 {
			ae.Uint64(unix.NFTA_RULE_HANDLE, h)
		} else {
			ae.Uint32(unix.NFTA_RULE_ID, id)
		}
	}))
}

// Append adds r at the end of its chain, like `iptables -t TABLE -A CHAIN
// ...`. Errors about the rule are returned at once and nothing is queued.
func (b *Batch) Append(f Family, r *Rule) error {
	exprs, err := ruleExprs(f, r)
	if err != nil {
		return err
	}
	_, err = b.newRule(f, r, exprs, rulePos{Append: true})
	return err
}

// InsertFirst adds r at the start of its chain, like `iptables -I CHAIN
// ...` (position 1). Other positions need the chain's contents: see
// Conn.Insert.
func (b *Batch) InsertFirst(f Family, r *Rule) error {
	exprs, err := ruleExprs(f, r)
	if err != nil {
		return err
	}
	_, err = b.newRule(f, r, exprs, rulePos{})
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

// Commit applies the batch as one atomic nf_tables transaction: all of it
// or, on error, nothing. The batch is emptied after a successful commit.
func (c *Conn) Commit(ctx context.Context, b *Batch) error {
	if len(b.msgs) == 0 {
		return nil
	}
	if _, err := c.c.Transaction(ctx, unix.NFNL_SUBSYS_NFTABLES, 0, b.msgs); err != nil {
		var ne *nlconn.Error
		if errors.As(err, &ne) && ne.Index >= 0 && ne.Index < len(b.lines) && b.lines[ne.Index] > 0 {
			return &LineError{Line: b.lines[ne.Index], Err: nlconn.WithContext(err, "restore", "iptables batch", nil)}
		}
		return nlconn.WithContext(err, "commit", "iptables batch", nil)
	}
	*b = Batch{created: map[string]bool{}}
	return nil
}
