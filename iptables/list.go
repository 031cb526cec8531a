package iptables

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"sort"

	"github.com/nfkit/nfkit/nft"
)

// decodeListed turns a rule listed by package nft (expressions kept raw)
// into an iptables Rule.
func decodeListed(f Family, nr *nft.Rule) (*Rule, error) {
	var d ruleDec
	return d.decodeListed(f, nr)
}

// decodeListed is decodeListed reusing d's expression list.
func (d *ruleDec) decodeListed(f Family, nr *nft.Rule) (*Rule, error) {
	return d.decodeRaw(f, nr.Table, nr.Chain, nr.Handle, nr.RawExprs())
}

// decodeRaw decodes a listed rule from its expressions' attribute bytes.
// The rule may alias exprs.
func (d *ruleDec) decodeRaw(f Family, table, chain string, handle uint64, exprs []byte) (*Rule, error) {
	list, err := appendExprs(d.list[:0], exprs)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s %s handle %d: %v", ErrForeign, f, table, chain, handle, err)
	}
	var r *Rule
	if d.pool != nil {
		r = d.pool.newRule(f)
	} else {
		r = &Rule{Family: f}
	}
	*d = ruleDec{f: f, list: list, r: r, pool: d.pool, tmp: d.tmp}
	if err := d.decode(); err != nil {
		return nil, fmt.Errorf("%s %s %s handle %d: %w", f, table, chain, handle, err)
	}
	r.Table, r.Chain, r.Handle = table, chain, handle
	return r, nil
}

// AllRules streams the rules of table/chain (every chain when chain is
// ""), in kernel order, like `iptables -t TABLE -S [CHAIN]` without the
// chain lines. A rule iptables-nft did not write comes in its place as a
// Rule whose Foreign field holds it (see ForeignRule); check Foreign
// before reading a rule's matches and target. A missing table or chain
// yields nothing.
func (c *Conn) AllRules(ctx context.Context, f Family, table, chain string) iter.Seq2[*Rule, error] {
	return func(yield func(*Rule, error) bool) {
		if !f.valid() {
			yield(nil, invalid("family %d", f))
			return
		}
		filter := nft.RuleFilter{Family: nft.Family(f), Table: table, Chain: chain, SkipExprs: true}
		var d ruleDec
		var sc *setCache
		for nr, err := range c.n.AllRules(ctx, filter) {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return
				}
				yield(nil, err)
				return
			}
			r, err := d.listedRule(f, nr)
			if err == nil && hasSetRefs(r) {
				if sc == nil {
					sc = c.newSetCache()
				}
				err = sc.nameRule(ctx, r)
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// ListRules returns the rules of table/chain (all chains when chain is
// ""), like `iptables -S`, foreign rules in place as AllRules returns
// them.
func (c *Conn) ListRules(ctx context.Context, f Family, table, chain string) ([]*Rule, error) {
	var out []*Rule
	for r, err := range c.AllRules(ctx, f, table, chain) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// tableChains is what the kernel holds of one iptables table: whether the
// table exists, its chains in iptables-save order (built-in chains in hook
// order, missing ones shown with policy ACCEPT as iptables-nft-save does,
// then user chains sorted by name), and whether base chains iptables does
// not know were left out ("tainted").
type tableChains struct {
	exists  bool
	chains  []Chain
	handles map[string]uint64
	tainted bool
}

func (c *Conn) loadChains(ctx context.Context, f Family, table string) (*tableChains, error) {
	return c.loadChainsFunc(ctx, f, table, nil)
}

// loadChainsFunc is loadChains calling found, when not nil, with the name
// of every chain iptables knows as soon as the dump delivers it.
func (c *Conn) loadChainsFunc(ctx context.Context, f Family, table string, found func(string) bool) (*tableChains, error) {
	if !f.valid() {
		return nil, invalid("family %d", f)
	}
	chains := func(yield func(listedChain, error) bool) {
		for ch, err := range c.n.AllChains(ctx, nft.Family(f), table) {
			var lc listedChain
			if err == nil {
				lc = listedChain{name: ch.Name, handle: ch.Handle, base: ch.IsBase(), prio: ch.Priority,
					ctype: string(ch.Type), drop: ch.Policy == nft.PolicyDrop,
					packets: ch.Counters.Packets, bytes: ch.Counters.Bytes}
				if lc.base {
					lc.hook = uint32(ch.Hook) - 1
				}
			}
			if !yield(lc, err) {
				return
			}
		}
	}
	return c.tableChainsOf(ctx, f, table, chains, true, found)
}

// listedChain is what iptables needs of a chain the kernel listed.
type listedChain struct {
	name           string
	handle         uint64
	base           bool
	hook           uint32 // the kernel's hook number (base chains)
	prio           int32
	ctype          string
	drop           bool // policy DROP
	packets, bytes uint64
}

// tableChainsOf builds the tableChains of table from its chain listing,
// with the chain handles when withHandles (Save needs none).
func (c *Conn) tableChainsOf(ctx context.Context, f Family, table string, chains iter.Seq2[listedChain, error],
	withHandles bool, found func(string) bool) (*tableChains, error) {
	bt, ok := builtins[table]
	if !ok {
		return nil, invalid("table %q", table)
	}
	tc := &tableChains{}
	if withHandles {
		tc.handles = map[string]uint64{}
	}
	builtinsFound := map[string]Chain{}
	var users []string
	for ch, err := range chains {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			return nil, err
		}
		tc.exists = true
		if !ch.base {
			users = append(users, ch.name)
			if withHandles {
				tc.handles[ch.name] = ch.handle
			}
			if found != nil && !found(ch.name) {
				return nil, ctx.Err()
			}
			continue
		}
		bc, ok := bt[ch.name]
		if !ok || ch.hook != bc.hook || ch.prio != bc.prio || ch.ctype != bc.ctype {
			tc.tainted = true
			continue
		}
		pol := "ACCEPT"
		if ch.drop {
			pol = "DROP"
		}
		builtinsFound[ch.name] = Chain{Name: ch.name, Builtin: true, Policy: pol,
			Counters: Counters{Packets: ch.packets, Bytes: ch.bytes}}
		if withHandles {
			tc.handles[ch.name] = ch.handle
		}
		if found != nil && !found(ch.name) {
			return nil, ctx.Err()
		}
	}
	if !tc.exists {
		// A table without chains still exists; ask for it.
		if _, err := c.n.GetTable(ctx, nft.Family(f), table); err == nil {
			tc.exists = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, name := range builtinOrder[table] {
		ch, ok := builtinsFound[name]
		if !ok {
			ch = Chain{Name: name, Builtin: true, Policy: "ACCEPT"}
		}
		tc.chains = append(tc.chains, ch)
	}
	sort.Strings(users)
	for _, u := range users {
		tc.chains = append(tc.chains, Chain{Name: u, Policy: "-"})
	}
	return tc, nil
}

// ListChains returns the chains of table in iptables-save order: the
// built-in chains (a missing one as policy ACCEPT, like iptables-nft),
// then the user-defined chains sorted by name, like `iptables -t TABLE
// -S | grep -- '^-[PN]'`. Base chains iptables-nft did not create are
// left out.
func (c *Conn) ListChains(ctx context.Context, f Family, table string) ([]Chain, error) {
	tc, err := c.loadChains(ctx, f, table)
	if err != nil {
		return nil, err
	}
	return tc.chains, nil
}
