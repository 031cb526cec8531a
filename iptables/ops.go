package iptables

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
)

// These operations read the chain before changing it, like the iptables
// command does; the change itself is one transaction. A concurrent change
// between the read and the commit can make the commit fail (the rule
// handle is gone: fs.ErrNotExist) but never hit the wrong rule.

// chainHandles returns the handles of table/chain's rules in order and,
// when match is not nil, the index of the first rule whose expressions
// (counters zeroed) equal match, else -1.
func (c *Conn) chainHandles(ctx context.Context, f Family, table, chain string, match []byte) ([]uint64, int, error) {
	var hs []uint64
	found := -1
	for r, err := range c.AllRules(ctx, f, table, chain) {
		if err != nil {
			return nil, 0, err
		}
		if r.Foreign != nil {
			// A foreign rule still takes a position; it never matches,
			// and rule numbers never address it (handle 0).
			hs = append(hs, 0)
			continue
		}
		hs = append(hs, r.Handle)
		if match != nil && found < 0 {
			r.Counters = Counters{}
			if b, err := ruleExprs(f, r); err == nil && bytes.Equal(b, match) {
				found = len(hs) - 1
			}
		}
	}
	return hs, found, nil
}

// zeroExprs encodes r with zero counters, set names looked up.
func (c *Conn) zeroExprs(ctx context.Context, f Family, r *Rule) ([]byte, error) {
	z := *r
	z.Counters = Counters{}
	b, fix, err := ruleExprsFix(f, &z)
	if err != nil || len(fix) == 0 {
		return b, err
	}
	return b, c.newSetCache().patch(ctx, b, fix)
}

// Insert inserts r at rule number pos (1-based) of its chain, like
// `iptables -I CHAIN POS ...`; pos 0 or 1 is the start, one past the last
// rule the end.
func (c *Conn) Insert(ctx context.Context, f Family, r *Rule, pos int) error {
	exprs, fix, err := ruleExprsFix(f, r)
	if err != nil {
		return err
	}
	b := NewBatch()
	if pos <= 1 {
		if _, err := b.newRule(f, r, exprs, fix, rulePos{}); err != nil {
			return err
		}
		return c.Commit(ctx, b)
	}
	hs, _, err := c.chainHandles(ctx, f, r.table(), r.Chain, nil)
	if err != nil {
		return err
	}
	switch {
	case pos-1 > len(hs):
		return fmt.Errorf("%w: insert at %d: chain %s has %d rules", ErrInvalid, pos, r.Chain, len(hs))
	case pos-1 == len(hs):
		_, err = b.newRule(f, r, exprs, fix, rulePos{Append: true})
	default:
		_, err = b.newRule(f, r, exprs, fix, rulePos{Handle: hs[pos-1]})
	}
	if err != nil {
		return err
	}
	return c.Commit(ctx, b)
}

// Append adds r at the end of its chain, like `iptables -A CHAIN ...`.
func (c *Conn) Append(ctx context.Context, f Family, r *Rule) error {
	b := NewBatch()
	if err := b.Append(f, r); err != nil {
		return err
	}
	return c.Commit(ctx, b)
}

// Exists reports whether a rule equal to r (counters aside) is in r's
// chain, like `iptables -C CHAIN ...`.
func (c *Conn) Exists(ctx context.Context, f Family, r *Rule) (bool, error) {
	m, err := c.zeroExprs(ctx, f, r)
	if err != nil {
		return false, err
	}
	_, i, err := c.chainHandles(ctx, f, r.table(), r.Chain, m)
	return i >= 0, err
}

// Delete deletes the first rule of r's chain equal to r (counters aside),
// like `iptables -D CHAIN ...`. No such rule: an error matching
// fs.ErrNotExist.
func (c *Conn) Delete(ctx context.Context, f Family, r *Rule) error {
	m, err := c.zeroExprs(ctx, f, r)
	if err != nil {
		return err
	}
	hs, i, err := c.chainHandles(ctx, f, r.table(), r.Chain, m)
	if err != nil {
		return err
	}
	if i < 0 {
		return fmt.Errorf("iptables: delete from %s %s: %w: no matching rule", r.table(), r.Chain, fs.ErrNotExist)
	}
	b := NewBatch()
	b.delRule(f, r.table(), r.Chain, hs[i], 0)
	return c.Commit(ctx, b)
}

// handleAt returns the handle of rule number num (1-based).
func (c *Conn) handleAt(ctx context.Context, f Family, table, chain string, num int) (uint64, error) {
	if err := checkTableChain(f, table, chain); err != nil {
		return 0, err
	}
	if num < 1 {
		return 0, invalid("rule number %d", num)
	}
	hs, _, err := c.chainHandles(ctx, f, table, chain, nil)
	if err != nil {
		return 0, err
	}
	if num > len(hs) {
		return 0, fmt.Errorf("iptables: %s %s rule %d: %w (chain has %d rules)", table, chain, num, fs.ErrNotExist, len(hs))
	}
	if hs[num-1] == 0 {
		return 0, fmt.Errorf("iptables: %s %s rule %d: %w", table, chain, num, ErrForeign)
	}
	return hs[num-1], nil
}

// DeleteNum deletes rule number num (1-based) of table/chain, like
// `iptables -t TABLE -D CHAIN NUM`.
func (c *Conn) DeleteNum(ctx context.Context, f Family, table, chain string, num int) error {
	h, err := c.handleAt(ctx, f, table, chain, num)
	if err != nil {
		return err
	}
	b := NewBatch()
	b.delRule(f, table, chain, h, 0)
	return c.Commit(ctx, b)
}

// Replace replaces rule number num (1-based) of r's chain by r, like
// `iptables -R CHAIN NUM ...`.
func (c *Conn) Replace(ctx context.Context, f Family, r *Rule, num int) error {
	exprs, fix, err := ruleExprsFix(f, r)
	if err != nil {
		return err
	}
	h, err := c.handleAt(ctx, f, r.table(), r.Chain, num)
	if err != nil {
		return err
	}
	b := NewBatch()
	if _, err := b.newRule(f, r, exprs, fix, rulePos{Replace: true, Handle: h}); err != nil {
		return err
	}
	return c.Commit(ctx, b)
}

// RenameChain renames a user-defined chain, like `iptables -E OLD NEW`.
func (c *Conn) RenameChain(ctx context.Context, f Family, table, old, newName string) error {
	if err := checkTableChain(f, table, old); err != nil {
		return err
	}
	if err := checkTableChain(f, table, newName); err != nil {
		return err
	}
	if _, ok := isBuiltin(table, old); ok {
		return invalid("cannot rename built-in chain %q", old)
	}
	tc, err := c.loadChains(ctx, f, table)
	if err != nil {
		return err
	}
	h, ok := tc.handles[old]
	if !ok {
		return fmt.Errorf("iptables: rename %s %s: %w", table, old, fs.ErrNotExist)
	}
	b := NewBatch()
	b.renameChain(f, table, h, newName)
	return c.Commit(ctx, b)
}

// DeleteUserChains deletes every user-defined chain of table (they must
// be empty and unreferenced), like `iptables -t TABLE -X`.
func (c *Conn) DeleteUserChains(ctx context.Context, f Family, table string) error {
	tc, err := c.loadChains(ctx, f, table)
	if err != nil {
		return err
	}
	b := NewBatch()
	for _, ch := range tc.chains {
		if !ch.Builtin {
			if err := b.DeleteChain(f, table, ch.Name); err != nil {
				return err
			}
		}
	}
	return c.Commit(ctx, b)
}
