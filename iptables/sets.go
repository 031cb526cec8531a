package iptables

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/nfkit/nfkit/ipset"
)

// ipset names in rules. The xt set match and SET target carry a set's
// kernel index; iptables looks the name up when it builds the rule and
// looks the index up when it prints one (getsockopt SO_IP_SET). nfkit
// does the same through package ipset on a Conn in the rule's namespace:
// encoding writes IPSET_INVALID_ID and records where (setFix), and the
// Conn fills the index in before anything is sent.

// setFix is an index to fill in: its offset in an expression list and
// the set name.
type setFix struct {
	off  int
	name string
}

// recordSets notes the references of x (a set match or SET target) whose
// index is unknown; base is the offset of x's info in the expression
// list.
func (e *enc) recordSets(x ext, base int) {
	sr, ok := x.(setRefs)
	if !ok {
		return
	}
	for _, ra := range sr.refs() {
		if !ra.ref.given() {
			continue
		}
		if _, ok := ra.ref.Index(); !ok {
			e.fix = append(e.fix, setFix{off: base + ra.off, name: ra.ref.Name})
		}
	}
}

// ipsetConn returns the Conn's ipset connection, dialed on first use in
// the Conn's namespace.
func (c *Conn) ipsetConn() (*ipset.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ipset == nil {
		s, err := dialSibling(c, func(netns int) (*ipset.Conn, error) { return ipset.Dial(&ipset.Config{NetNS: netns}) })
		if err != nil {
			return nil, fmt.Errorf("iptables: ipset connection for set lookups: %w", err)
		}
		c.ipset = s
	}
	return c.ipset, nil
}

// setCache resolves set names and indexes once per operation (a restore
// naming one set a thousand times asks once). Safe for concurrent use
// (Save's workers share one).
type setCache struct {
	c     *Conn
	mu    sync.Mutex
	idx   map[string]uint16
	names map[uint16]string
}

func (c *Conn) newSetCache() *setCache {
	return &setCache{c: c, idx: map[string]uint16{}, names: map[uint16]string{}}
}

// index returns the kernel index of name; a set that does not exist is
// ErrInvalid naming it.
func (sc *setCache) index(ctx context.Context, name string) (uint16, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if i, ok := sc.idx[name]; ok {
		return i, nil
	}
	s, err := sc.c.ipsetConn()
	if err != nil {
		return 0, err
	}
	i, err := s.Index(ctx, name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ipset.ErrInvalid) {
		return 0, fmt.Errorf("%w: ipset %q does not exist (%v)", ErrInvalid, name, err)
	}
	if err != nil {
		return 0, err
	}
	sc.idx[name], sc.names[i] = i, name
	return i, nil
}

func (sc *setCache) name(ctx context.Context, i uint16) (string, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if n, ok := sc.names[i]; ok {
		return n, nil
	}
	s, err := sc.c.ipsetConn()
	if err != nil {
		return "", err
	}
	n, err := s.NameByIndex(ctx, i)
	if err != nil {
		return "", err
	}
	sc.idx[n], sc.names[i] = i, n
	return n, nil
}

// patch fills the recorded indexes into exprs.
func (sc *setCache) patch(ctx context.Context, exprs []byte, fix []setFix) error {
	for _, f := range fix {
		i, err := sc.index(ctx, f.name)
		if err != nil {
			return err
		}
		if f.off+2 > len(exprs) {
			return fmt.Errorf("iptables: set index offset %d past %d bytes", f.off, len(exprs))
		}
		binary.LittleEndian.PutUint16(exprs[f.off:], i)
	}
	return nil
}

// nameRule sets the names of the set references of a listed rule from
// their indexes, as iptables-save prints them.
func (sc *setCache) nameRule(ctx context.Context, r *Rule) error {
	if r == nil {
		return nil
	}
	exts := make([]ext, 0, len(r.Matches)+1)
	for _, m := range r.Matches {
		exts = append(exts, m)
	}
	if r.Target != nil {
		exts = append(exts, r.Target)
	}
	for _, x := range exts {
		sr, ok := x.(setRefs)
		if !ok {
			continue
		}
		for _, ra := range sr.refs() {
			if !ra.ref.hasIndex || ra.ref.Name != "" {
				continue
			}
			n, err := sc.name(ctx, ra.ref.index)
			if err != nil {
				return fmt.Errorf("iptables: %s %s: set index %d: %w", r.table(), r.Chain, ra.ref.index, err)
			}
			ra.ref.Name, ra.ref.idxName = n, n
		}
	}
	return nil
}

// hasSetRefs reports whether r has a set match or SET target.
func hasSetRefs(r *Rule) bool {
	if r == nil {
		return false
	}
	for _, m := range r.Matches {
		if _, ok := m.(setRefs); ok {
			return true
		}
	}
	_, ok := r.Target.(setRefs)
	return ok
}

// ResolveSets looks up, in the Conn's namespace, the kernel index of
// every ipset that b's rules name (-m set, -j SET) and writes it into
// them. Commit does this itself; call it before Batch.AppendTo when the
// batch goes into an nft.Batch (an unresolved reference carries
// IPSET_INVALID_ID, which the kernel refuses). A set that does not exist
// is an error wrapping ErrInvalid naming it; nothing is sent.
func (c *Conn) ResolveSets(ctx context.Context, b *Batch) error {
	var sc *setCache
	for i := range b.ops {
		o := &b.ops[i]
		if len(o.fix) == 0 {
			continue
		}
		if sc == nil {
			sc = c.newSetCache()
		}
		if err := sc.patch(ctx, o.exprs, o.fix); err != nil {
			if o.line > 0 {
				return &LineError{Line: o.line, Err: err}
			}
			return err
		}
		o.rule.SetRawExprs(o.exprs)
		o.fix = nil
	}
	return nil
}
