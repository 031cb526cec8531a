package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/nfkit/nfkit/nft"
)

// RestoreOptions are iptables-restore's options.
type RestoreOptions struct {
	// NoFlush keeps what is in the tables (--noflush): only the chains
	// named in ":CHAIN" lines are flushed, and -D/-R/-I N address the
	// rules already there. Without it every table in the input is
	// replaced as a whole (iptables-nft deletes and recreates it).
	NoFlush bool
	// Counters sets rule and policy counters from "[PACKETS:BYTES]"
	// (--counters); without it they are read and ignored.
	Counters bool
	// Test parses and builds everything but commits nothing (--test).
	// With NoFlush the chains that -D/-R/-I N address are still read.
	Test bool
}

// Restore applies iptables-restore input for family f, like
// `iptables-nft-restore [--noflush] [--counters] [--test]` (or
// ip6tables-nft-restore for IPv6), as ONE nf_tables transaction across all
// its tables: either every table is changed or none is. No xtables lock is
// taken; nf_tables transactions need none.
//
// The whole input is parsed before anything is sent: a bad line anywhere
// returns a *ParseError naming the line and the token, and the kernel is
// not touched. A kernel error returns a *LineError naming the input line
// whose operation failed; nothing was applied then either.
//
// Supported commands: ":CHAIN POLICY [P:B]", -A, -I [N], -D (by rule or by
// number), -R N, -N, -X [CHAIN], -F [CHAIN], -P, -E (of a chain that
// existed before, with NoFlush), COMMIT. -Z is not supported.
func (c *Conn) Restore(ctx context.Context, r io.Reader, f Family, opt *RestoreOptions) error {
	if opt == nil {
		opt = &RestoreOptions{}
	}
	b, err := c.PlanRestore(ctx, r, f, opt)
	if err != nil || opt.Test {
		return err
	}
	return c.Commit(ctx, b)
}

// PlanRestore does everything Restore does except committing: it parses
// the input, reads what a NoFlush restore needs to know (the chains that
// -D/-R/-I N address, the chain list for -X and -E) and returns the
// Batch. Commit it with Conn.Commit, or add it with Batch.AppendTo to an
// nft.Batch to apply it in one transaction with native nf_tables changes,
// like `iptables-nft-restore` and `nft -f` in one atomic step. opt.Test is
// ignored. A concurrent change between the read and the commit can make
// the commit fail, never hit another rule.
func (c *Conn) PlanRestore(ctx context.Context, r io.Reader, f Family, opt *RestoreOptions) (*Batch, error) {
	if opt == nil {
		opt = &RestoreOptions{}
	}
	tables, err := parseRestore(r, f, opt.Counters)
	if err != nil {
		return nil, err
	}
	if err := c.resolveRestoreSets(ctx, tables); err != nil {
		return nil, err
	}
	b := NewBatch()
	p := &planner{c: c, b: b, f: f, opt: opt}
	for i := range tables {
		if err := p.doTable(ctx, &tables[i]); err != nil {
			return nil, err
		}
	}
	b.line = 0
	return b, nil
}

// simRule is a rule of a chain whose contents the planner follows: one
// that was in the kernel (handle) or one added by this batch (id).
type simRule struct {
	handle uint64
	id     uint32
	match  []byte // expressions with zero counters; nil: never matches
}

// planner turns restore commands into batch messages, following the
// contents of the chains where positions matter.
type planner struct {
	c   *Conn
	b   *Batch
	f   Family
	opt *RestoreOptions

	table string
	// known maps a chain to its simulated contents. A chain not in known
	// holds rules the planner has not read (NoFlush), which is fine as
	// long as only -A and -I (at the top) touch it.
	known   map[string][]simRule
	allNew  bool              // the table was replaced or flushed: every chain starts empty
	users   map[string]bool   // user chains known to exist (for -X without a chain)
	handles map[string]uint64 // chain handles read from the kernel (for -E)
}

func (p *planner) doTable(ctx context.Context, t *rtable) error {
	p.table = t.name
	p.known = map[string][]simRule{}
	p.users = map[string]bool{}
	p.handles = nil
	p.allNew = !p.opt.NoFlush
	p.b.line = t.line
	if !p.opt.NoFlush {
		// iptables-nft replaces a table by deleting it (with anything else
		// in it) in the same transaction. Creating it first makes the
		// delete valid whether or not it existed, without a round trip.
		if err := p.b.ensure(p.f, t.name, ""); err != nil {
			return err
		}
		p.b.push(bop{kind: opDelTable, table: &nft.Table{Family: nft.Family(p.f), Name: t.name}})
		p.forget(t.name)
	} else if err := p.readAhead(ctx, t); err != nil {
		return err
	}
	for i := range t.cmds {
		if err := p.cmd(&t.cmds[i]); err != nil {
			return err
		}
	}
	return nil
}

// forget drops what the batch remembers having created in table.
func (p *planner) forget(table string) {
	k := tableKey(p.f, table)
	delete(p.b.created, k)
	for ch := range builtins[table] {
		delete(p.b.created, k+"/"+ch)
	}
}

// readAhead reads, before anything is queued, the chains whose existing
// rules a NoFlush restore addresses by position or specification, and the
// chain list when -X without a chain or -E needs it.
func (p *planner) readAhead(ctx context.Context, t *rtable) error {
	fresh := map[string]bool{}
	allFresh, needChains := false, false
	need := map[string]bool{}
	for _, c := range t.cmds {
		switch c.kind {
		case ':', 'N':
			if _, builtin := isBuiltin(t.name, c.chain); !builtin || c.kind == 'N' {
				fresh[c.chain] = true
			}
		case 'F':
			if c.chain == "" {
				allFresh = true
			} else {
				fresh[c.chain] = true
			}
		case 'X':
			if c.chain == "" {
				needChains = true
			}
		case 'E':
			needChains = true
		case 'I', 'D', 'R':
			if (c.kind != 'I' || c.num > 1) && !fresh[c.chain] && !allFresh {
				need[c.chain] = true
			}
		}
	}
	if needChains {
		tc, err := p.c.loadChains(ctx, p.f, t.name)
		if err != nil {
			return err
		}
		p.handles = tc.handles
		for _, ch := range tc.chains {
			if !ch.Builtin {
				p.users[ch.Name] = true
			}
		}
	}
	for ch := range need {
		var rules []simRule
		filter := nft.RuleFilter{Family: nft.Family(p.f), Table: t.name, Chain: ch, SkipExprs: true}
		for nr, err := range p.c.n.AllRules(ctx, filter) {
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if err != nil {
				return err
			}
			s := simRule{handle: nr.Handle}
			if r, err := decodeListed(p.f, nr); err == nil {
				r.Counters = Counters{}
				s.match, _ = ruleExprs(p.f, r)
			}
			rules = append(rules, s)
		}
		p.known[ch] = rules
	}
	return nil
}

// chainRules returns the simulated rules of chain and whether they are
// known.
func (p *planner) chainRules(chain string) ([]simRule, bool) {
	if rs, ok := p.known[chain]; ok {
		return rs, true
	}
	if p.allNew {
		return nil, true
	}
	return nil, false
}

func (p *planner) cmd(c *rcmd) error {
	b, f, table := p.b, p.f, p.table
	b.line = c.line
	switch c.kind {
	case ':':
		if bc, builtin := isBuiltin(table, c.chain); builtin {
			if err := b.ensure(f, table, ""); err != nil {
				return err
			}
			pol := c.arg
			if pol == "-" {
				pol = ""
			}
			ctrs := c.ctrs
			b.push(bop{kind: opAddChain, chain: builtinChain(f, table, c.chain, bc, pol, &ctrs)})
			b.created[tableKey(f, table)+"/"+c.chain] = true
			return nil
		}
		if err := b.ensure(f, table, ""); err != nil {
			return err
		}
		if p.opt.NoFlush {
			// Create it if missing, else flush it: two idempotent
			// messages instead of reading whether it exists.
			b.push(bop{kind: opAddChain, chain: userChain(f, table, c.chain)})
			b.flush(f, table, c.chain)
		} else {
			b.push(bop{kind: opCreateChain, chain: userChain(f, table, c.chain)})
		}
		p.known[c.chain] = nil
		p.users[c.chain] = true
	case 'N':
		if err := b.NewChain(f, table, c.chain); err != nil {
			return err
		}
		p.known[c.chain] = nil
		p.users[c.chain] = true
	case 'X':
		chains := []string{c.chain}
		if c.chain == "" {
			chains = chains[:0]
			for ch := range p.users {
				chains = append(chains, ch)
			}
		}
		for _, ch := range chains {
			if err := b.DeleteChain(f, table, ch); err != nil {
				return err
			}
			delete(p.known, ch)
			delete(p.users, ch)
		}
	case 'F':
		if err := b.FlushChain(f, table, c.chain); err != nil {
			return err
		}
		if c.chain == "" {
			p.known = map[string][]simRule{}
			p.allNew = true
		} else {
			p.known[c.chain] = nil
		}
	case 'P':
		return b.SetPolicy(f, table, c.chain, c.arg)
	case 'E':
		h, ok := p.handles[c.chain]
		if !ok || !p.opt.NoFlush {
			return lineErr(c.line, c.chain, "-E renames only a chain that existed before the restore (with --noflush)")
		}
		b.renameChain(f, table, h, c.arg)
		if rs, ok := p.known[c.chain]; ok {
			p.known[c.arg] = rs
			delete(p.known, c.chain)
		}
		delete(p.users, c.chain)
		p.users[c.arg] = true
	case 'A':
		id, err := b.newRule(f, c.rule, c.exprs, nil, rulePos{Append: true})
		if err != nil {
			return err
		}
		if rs, ok := p.chainRules(c.chain); ok {
			p.known[c.chain] = append(rs, simRule{id: id, match: c.match})
		}
	case 'I':
		return p.insert(c)
	case 'D':
		return p.delete(c)
	case 'R':
		return p.replace(c)
	}
	return nil
}

func (p *planner) insert(c *rcmd) error {
	rs, known := p.chainRules(c.chain)
	at := c.num - 1
	if at < 0 {
		at = 0
	}
	if !known && at == 0 {
		_, err := p.b.newRule(p.f, c.rule, c.exprs, nil, rulePos{})
		return err
	}
	if at > len(rs) {
		return &ParseError{Line: c.line, Token: fmt.Sprint(c.num),
			Err: fmt.Errorf("%w: index of insertion too big (chain %s has %d rules)", ErrInvalid, c.chain, len(rs))}
	}
	pos := rulePos{Append: at == len(rs)}
	if at < len(rs) {
		pos.Handle, pos.ID = rs[at].handle, rs[at].id
		if pos.Handle != 0 {
			pos.ID = 0
		}
	}
	id, err := p.b.newRule(p.f, c.rule, c.exprs, nil, pos)
	if err != nil {
		return err
	}
	rs = append(rs, simRule{})
	copy(rs[at+1:], rs[at:])
	rs[at] = simRule{id: id, match: c.match}
	p.known[c.chain] = rs
	return nil
}

// find returns the index of the rule -D/-R addresses.
func (p *planner) find(c *rcmd) (int, error) {
	rs, _ := p.chainRules(c.chain)
	if c.num > 0 {
		if c.num > len(rs) {
			return 0, &ParseError{Line: c.line, Token: fmt.Sprint(c.num),
				Err: fmt.Errorf("%w: chain %s has %d rules", fs.ErrNotExist, c.chain, len(rs))}
		}
		return c.num - 1, nil
	}
	for i, r := range rs {
		if r.match != nil && bytes.Equal(r.match, c.match) {
			return i, nil
		}
	}
	return 0, &ParseError{Line: c.line, Token: c.rule.Spec(p.f),
		Err: fmt.Errorf("%w: no matching rule in chain %s", fs.ErrNotExist, c.chain)}
}

func (p *planner) delete(c *rcmd) error {
	i, err := p.find(c)
	if err != nil {
		return err
	}
	rs := p.known[c.chain]
	p.b.delRule(p.f, p.table, c.chain, rs[i].handle, rs[i].id)
	p.known[c.chain] = append(rs[:i], rs[i+1:]...)
	return nil
}

func (p *planner) replace(c *rcmd) error {
	i, err := p.find(c)
	if err != nil {
		return err
	}
	rs := p.known[c.chain]
	old := rs[i]
	var id uint32
	if old.handle != 0 {
		id, err = p.b.newRule(p.f, c.rule, c.exprs, nil, rulePos{Replace: true, Handle: old.handle})
	} else {
		// A rule of this batch has no handle yet: put the new one before
		// it, then delete it.
		id, err = p.b.newRule(p.f, c.rule, c.exprs, nil, rulePos{ID: old.id})
		if err == nil {
			p.b.delRule(p.f, p.table, c.chain, 0, old.id)
		}
	}
	if err != nil {
		return err
	}
	rs[i] = simRule{id: id, match: c.match}
	return nil
}

// resolveRestoreSets fills the kernel indexes of the sets the input's
// rules name into their expressions, before planning (a -D by
// specification compares them with the kernel's rules, which carry
// indexes). A missing set fails with the line naming it.
func (c *Conn) resolveRestoreSets(ctx context.Context, tables []rtable) error {
	var sc *setCache
	for i := range tables {
		for j := range tables[i].cmds {
			cm := &tables[i].cmds[j]
			if len(cm.fix) == 0 {
				continue
			}
			if sc == nil {
				sc = c.newSetCache()
			}
			if err := sc.patch(ctx, cm.exprs, cm.fix); err != nil {
				return &LineError{Line: cm.line, Err: err}
			}
			if &cm.match[0] != &cm.exprs[0] {
				if err := sc.patch(ctx, cm.match, cm.fix); err != nil {
					return &LineError{Line: cm.line, Err: err}
				}
			}
			cm.fix = nil
		}
	}
	return nil
}
