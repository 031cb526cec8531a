package nft

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Batch is a list of changes committed as ONE nf_tables transaction: the
// kernel applies all of them or none of them, like one `nft -f` file.
//
// A Batch is a value built without I/O; Commit validates every operation
// first (nothing is sent if one is invalid), then sends the whole batch in
// one sendmsg. A Batch is not safe for concurrent use. Objects passed to it
// are kept by pointer: after a successful Commit the handles the kernel
// assigned are written into them.
type Batch struct {
	c   *Conn
	ops []op
	ids uint32 // last batch-local object id (sets, rules)

	// Gen, when non-zero, makes the commit conditional: the kernel refuses
	// the batch with ErrConflict if the ruleset generation is no longer Gen
	// (read it with Conn.GetGen). Conn.Retry automates the loop.
	Gen uint32
	// NoEcho skips asking the kernel to echo created objects back. Commits
	// of huge batches get cheaper, but handles are not filled in.
	NoEcho bool
	// CheckJumps makes Commit look up, before sending, every jump/goto
	// target chain that the batch does not create, and refuse a missing one
	// with ErrInvalid (one GETCHAIN per distinct target; see
	// validate_jump.go). Jumps to chains the batch deletes are refused
	// either way.
	CheckJumps bool
}

// op is one operation of a batch.
type op struct {
	verb   string // "add", "create", "insert", "replace", "delete", "destroy", "flush"
	kind   string // "table", "chain", "rule", ...
	cmd    uint8
	flags  netlink.HeaderFlags
	family Family
	obj    fmt.Stringer
	// encode writes the message attributes.
	encode func(e *attr.Writer) error
	// multi, instead of encode, returns the attributes of several messages
	// (set elements beyond what one message holds).
	multi func() ([][]byte, error)
	// echo, if set, receives the kernel's echo of the created object.
	echo func(attrs []byte)
}

// NewBatch returns an empty batch that commits on c.
func (c *Conn) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of operations in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Reset empties the batch so it can be reused.
func (b *Batch) Reset() { b.ops = b.ops[:0] }

func (b *Batch) add(o op) { b.ops = append(b.ops, o) }

// Commit sends the batch as one atomic nf_tables transaction. On failure
// nothing was applied and the error names the failing operation (index,
// verb, object) with the errno and the kernel's message: see Error.
func (b *Batch) Commit(ctx context.Context) error {
	if len(b.ops) == 0 {
		return nil
	}
	msgs, msgOp, err := b.build()
	if err != nil {
		return err
	}
	if b.CheckJumps {
		targets, err := b.checkJumps()
		if err == nil {
			err = b.lookupJumps(ctx, targets)
		}
		if err != nil {
			return err
		}
	}
	replies, err := b.c.nl.Transaction(ctx, subsys, b.Gen, msgs)
	if err != nil {
		var ne *nlconn.Error
		if errors.As(err, &ne) {
			if ne.Index >= 0 && ne.Index < len(msgOp) {
				c := *ne
				c.Index = msgOp[ne.Index] // report the operation, not the message
				o := b.ops[c.Index]
				return kernelErr(&c, o.verb+" "+o.kind, strings.TrimPrefix(o.obj.String(), o.kind+" "))
			}
			return kernelErr(err, "commit", fmt.Sprintf("batch of %d operations", len(b.ops)))
		}
		return fmt.Errorf("nft: commit batch of %d operations: %w", len(b.ops), err)
	}
	for i, rs := range replies {
		o := b.ops[msgOp[i]]
		if o.echo == nil {
			continue
		}
		for _, m := range rs {
			_, cmd := nfnl.Split(m.Header.Type)
			if cmd != o.cmd || len(m.Data) < nfnl.HeaderLen {
				continue
			}
			o.echo(m.Data[nfnl.HeaderLen:])
		}
	}
	return nil
}

// build validates and encodes every operation; nothing is sent when any
// of them is invalid. msgOp maps each message to its operation.
func (b *Batch) build() ([]netlink.Message, []int, error) {
	if err := b.check(); err != nil {
		return nil, nil, err
	}
	msgs := make([]netlink.Message, 0, len(b.ops))
	msgOp := make([]int, 0, len(b.ops))
	hdr := func(o op) []byte {
		return nfnl.Header{Family: uint8(o.family), Version: unix.NFNETLINK_V0}.Marshal(make([]byte, 0, 128))
	}
	for i, o := range b.ops {
		flags := o.flags
		if o.echo != nil && !b.NoEcho {
			flags |= netlink.Echo
		}
		h := netlink.Header{Type: nfnl.Type(subsys, o.cmd), Flags: netlink.Request | flags}
		if o.multi != nil {
			parts, err := o.multi()
			if err != nil {
				return nil, nil, fmt.Errorf("batch operation %d (%s %s): %w", i, o.verb, o.kind, wrapExprErr(err))
			}
			for _, p := range parts {
				data := append(hdr(o)[:nfnl.HeaderLen:nfnl.HeaderLen], p...)
				msgs = append(msgs, netlink.Message{Header: h, Data: data})
				msgOp = append(msgOp, i)
			}
			continue
		}
		e := attr.Writer{Buf: hdr(o)}
		err := o.encode(&e)
		if err == nil && e.Err() != nil {
			// An attribute or nest past the u16 length: nothing of it was
			// written, so the message must not go out.
			err = fmt.Errorf("%w: %v", ErrInvalid, e.Err())
		}
		if err != nil {
			return nil, nil, fmt.Errorf("batch operation %d (%s %s): %w", i, o.verb, o.kind, wrapExprErr(err))
		}
		msgs = append(msgs, netlink.Message{Header: h, Data: e.Buf})
		msgOp = append(msgOp, i)
	}
	return msgs, msgOp, nil
}

// Retry commits a batch built by build, conditional on the generation
// read just before, and rebuilds and retries it (up to attempts times) when
// someone else changed the ruleset in between. build gets a fresh, empty
// batch each time and should read whatever state it depends on.
func (c *Conn) Retry(ctx context.Context, attempts int, build func(ctx context.Context, b *Batch) error) error {
	if attempts < 1 {
		attempts = 1
	}
	var err error
	for range attempts {
		var g Generation
		if g, err = c.GetGen(ctx); err != nil {
			return err
		}
		b := c.NewBatch()
		b.Gen = g.ID
		if err = build(ctx, b); err != nil {
			return err
		}
		if err = b.Commit(ctx); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

// --- tables ---

func (b *Batch) tableOp(verb string, cmd uint8, flags netlink.HeaderFlags, t *Table, state bool) {
	o := op{verb: verb, kind: "table", cmd: cmd, flags: flags, family: t.Family, obj: t}
	o.encode = func(e *attr.Writer) error {
		if !state { // delete / destroy / flush address the table only
			if !t.Family.valid() {
				return fmt.Errorf("%w: %v: family %v", ErrInvalid, t, t.Family)
			}
			if t.Handle != 0 && t.Name == "" && cmd != msgDelRule {
				e.U64(attrTableHandle, t.Handle)
				return nil
			}
			if err := validName("table name", t.Name); err != nil {
				return err
			}
			e.String(attrTableName, t.Name)
			return nil
		}
		if err := t.validate(); err != nil {
			return err
		}
		return t.marshal(e, false)
	}
	if state {
		o.echo = func(a []byte) {
			var got Table
			if got.unmarshal(t.Family, a) == nil && got.Handle != 0 {
				t.Handle = got.Handle
			}
		}
	}
	b.add(o)
}

// AddTable adds t, or updates its flags and comment if it exists (like
// `nft add table`).
func (b *Batch) AddTable(t *Table) { b.tableOp("add", msgNewTable, netlink.Create, t, true) }

// CreateTable adds t and fails with EEXIST if it exists (like `nft create
// table`).
func (b *Batch) CreateTable(t *Table) {
	b.tableOp("create", msgNewTable, netlink.Create|netlink.Excl, t, true)
}

// DeleteTable deletes t and everything in it; ENOENT if missing (like
// `nft delete table`).
func (b *Batch) DeleteTable(t *Table) { b.tableOp("delete", msgDelTable, 0, t, false) }

// DestroyTable deletes t if it exists (like `nft destroy table`, Linux 6.3).
func (b *Batch) DestroyTable(t *Table) { b.tableOp("destroy", msgDestroyTable, 0, t, false) }

// FlushTable deletes every rule of every chain of t (like `nft flush
// table`); chains and sets stay.
func (b *Batch) FlushTable(t *Table) { b.tableOp("flush", msgDelRule, 0, t, false) }

// FlushRuleset deletes every table of family (FamilyUnspec: all families),
// like `nft flush ruleset`.
func (b *Batch) FlushRuleset(family Family) {
	b.add(op{verb: "flush", kind: "ruleset", cmd: msgDelTable, family: family,
		obj:    stringer("ruleset " + family.String()),
		encode: func(e *attr.Writer) error { return nil }})
}

type stringer string

func (s stringer) String() string { return string(s) }

// --- chains ---

func (b *Batch) chainOp(verb string, cmd uint8, flags netlink.HeaderFlags, c *Chain, state bool) {
	o := op{verb: verb, kind: "chain", cmd: cmd, flags: flags, family: c.Family, obj: c}
	o.encode = func(e *attr.Writer) error {
		if state {
			if err := c.validate(); err != nil {
				return err
			}
			return c.marshal(e, false)
		}
		if !c.Family.valid() {
			return fmt.Errorf("%w: %v: family %v", ErrInvalid, c, c.Family)
		}
		if err := validName("table name", c.Table); err != nil {
			return err
		}
		e.String(attrChainTable, c.Table)
		if c.Handle != 0 && c.Name == "" && cmd != msgDelRule {
			e.U64(attrChainHandle, c.Handle)
			return nil
		}
		if err := validName("chain name", c.Name); err != nil {
			return err
		}
		if cmd == msgDelRule {
			e.String(attrRuleChain, c.Name)
		} else {
			e.String(attrChainName, c.Name)
		}
		return nil
	}
	if state {
		o.echo = func(a []byte) {
			var got Chain
			if got.unmarshal(c.Family, a) == nil && got.Handle != 0 {
				c.Handle = got.Handle
			}
		}
	}
	b.add(o)
}

// AddChain adds c, or updates an existing chain's policy (like `nft add
// chain`).
func (b *Batch) AddChain(c *Chain) { b.chainOp("add", msgNewChain, netlink.Create, c, true) }

// CreateChain adds c and fails with EEXIST if it exists (like `nft create
// chain`).
func (b *Batch) CreateChain(c *Chain) {
	b.chainOp("create", msgNewChain, netlink.Create|netlink.Excl, c, true)
}

// DeleteChain deletes an empty, unreferenced chain by name (or by handle
// when Name is empty), like `nft delete chain`.
func (b *Batch) DeleteChain(c *Chain) { b.chainOp("delete", msgDelChain, 0, c, false) }

// DestroyChain deletes c if it exists (like `nft destroy chain`, Linux 6.3).
func (b *Batch) DestroyChain(c *Chain) { b.chainOp("destroy", msgDestroyChain, 0, c, false) }

// FlushChain deletes every rule of c (like `nft flush chain`).
func (b *Batch) FlushChain(c *Chain) { b.chainOp("flush", msgDelRule, 0, c, false) }

// chainRename is the object of a rename operation (it is not a *Chain, so
// the batch checks do not take it for the creation of c.Name).
type chainRename struct {
	c       *Chain
	newName string
}

func (r chainRename) String() string { return r.c.String() + " to " + r.newName }

// RenameChain renames the chain with handle c.Handle (as listed) to
// newName, like `nft rename chain FAMILY TABLE NAME NEWNAME` and
// `iptables -E`: a NEWCHAIN carrying both the handle and the new name.
// Rules and jumps follow the chain; c itself is not changed.
func (b *Batch) RenameChain(c *Chain, newName string) {
	o := op{verb: "rename", kind: "chain", cmd: msgNewChain, family: c.Family, obj: chainRename{c, newName}}
	o.encode = func(e *attr.Writer) error {
		if !c.Family.valid() {
			return fmt.Errorf("%w: %v: family %v", ErrInvalid, c, c.Family)
		}
		if err := validName("table name", c.Table); err != nil {
			return err
		}
		if c.Handle == 0 {
			return fmt.Errorf("%w: %v: rename needs the chain's handle", ErrInvalid, c)
		}
		if err := validName("chain name", newName); err != nil {
			return err
		}
		// iptables-nft's order: the new name, then the handle.
		e.String(attrChainTable, c.Table)
		e.String(attrChainName, newName)
		e.U64(attrChainHandle, c.Handle)
		return nil
	}
	b.add(o)
}

// --- rules ---

func (b *Batch) ruleOp(verb string, cmd uint8, flags netlink.HeaderFlags, r *Rule) {
	o := op{verb: verb, kind: "rule", cmd: cmd, flags: flags, family: r.Family, obj: r}
	switch cmd {
	case msgNewRule:
		o.encode = func(e *attr.Writer) error {
			if err := r.validate(); err != nil {
				return err
			}
			if verb == "replace" && r.Handle == 0 {
				return fmt.Errorf("%w: %v: replace needs the rule's handle", ErrInvalid, r)
			}
			if verb != "replace" && r.Handle != 0 {
				// The kernel would read a handle on NEWRULE as "replace".
				c := *r
				c.Handle = 0
				return c.marshal(e, false)
			}
			return r.marshal(e, false)
		}
		o.echo = func(a []byte) {
			var got Rule
			if got.unmarshal(r.Family, a, true) == nil && got.Handle != 0 {
				r.Handle = got.Handle
			}
		}
	default:
		o.encode = func(e *attr.Writer) error {
			if err := r.validate(); err != nil {
				return err
			}
			if r.Handle == 0 && r.ID == 0 {
				return fmt.Errorf("%w: %v: %s needs the rule's handle (or the ID of a rule added earlier in the batch)", ErrInvalid, r, verb)
			}
			e.String(attrRuleTable, r.Table)
			e.String(attrRuleChain, r.Chain)
			if r.Handle == 0 {
				// A rule added earlier in this batch has no handle yet;
				// the kernel finds it by its NFTA_RULE_ID.
				e.U32(attrRuleID, r.ID)
				return nil
			}
			e.U64(attrRuleHandle, r.Handle)
			return nil
		}
	}
	b.add(o)
}

// AddRule appends r to its chain, or places it after the rule whose handle
// is r.Position (like `nft add rule ... [position N]`).
func (b *Batch) AddRule(r *Rule) {
	b.ruleOp("add", msgNewRule, netlink.Create|netlink.Append, r)
}

// InsertRule prepends r to its chain, or places it before the rule whose
// handle is r.Position (like `nft insert rule ... [position N]`).
func (b *Batch) InsertRule(r *Rule) { b.ruleOp("insert", msgNewRule, netlink.Create, r) }

// ReplaceRule replaces the rule with handle r.Handle by r (like `nft
// replace rule ... handle N`).
func (b *Batch) ReplaceRule(r *Rule) { b.ruleOp("replace", msgNewRule, netlink.Replace, r) }

// DeleteRule deletes the rule with handle r.Handle (like `nft delete rule
// ... handle N`). With Handle 0 it deletes the rule with ID r.ID that an
// earlier operation of the same batch added (as iptables-nft-restore's
// `-D` of a rule the same restore appended).
func (b *Batch) DeleteRule(r *Rule) { b.ruleOp("delete", msgDelRule, 0, r) }

// DestroyRule deletes the rule if it exists (like `nft destroy rule`,
// Linux 6.3); Handle 0 addresses it by ID as DeleteRule does.
func (b *Batch) DestroyRule(r *Rule) { b.ruleOp("destroy", msgDestroyRule, 0, r) }
