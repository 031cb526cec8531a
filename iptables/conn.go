package iptables

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Config selects the network namespace; nil means the caller's.
type Config struct {
	NetNS int // namespace fd; 0 for the current one
}

// Conn talks nf_tables to the kernel for iptables rules. It is safe for
// concurrent use.
type Conn struct{ c *nlconn.Conn }

// Dial opens a netfilter netlink socket (in cfg.NetNS when set).
func Dial(cfg *Config) (*Conn, error) {
	var nc nlconn.Config
	if cfg != nil {
		nc.NetNS = cfg.NetNS
	}
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nc)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.c.Close() }

// builtin describes a base chain as iptables-nft creates it.
type builtin struct {
	hook  uint32
	prio  int32
	ctype string
}

var builtins = map[string]map[string]builtin{
	"filter": {"INPUT": {1, 0, "filter"}, "FORWARD": {2, 0, "filter"}, "OUTPUT": {3, 0, "filter"}},
	"nat": {"PREROUTING": {0, -100, "nat"}, "INPUT": {1, 100, "nat"}, "OUTPUT": {3, -100, "nat"},
		"POSTROUTING": {4, 100, "nat"}},
	"mangle": {"PREROUTING": {0, -150, "filter"}, "INPUT": {1, -150, "filter"}, "FORWARD": {2, -150, "filter"},
		"OUTPUT": {3, -150, "route"}, "POSTROUTING": {4, -150, "filter"}},
	"raw":      {"PREROUTING": {0, -300, "filter"}, "OUTPUT": {3, -300, "filter"}},
	"security": {"INPUT": {1, 150, "filter"}, "FORWARD": {2, 150, "filter"}, "OUTPUT": {3, 150, "filter"}},
}

// builtinOrder is the order iptables-save lists built-in chains in.
var builtinOrder = map[string][]string{
	"filter":   {"INPUT", "FORWARD", "OUTPUT"},
	"nat":      {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"mangle":   {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"raw":      {"PREROUTING", "OUTPUT"},
	"security": {"INPUT", "FORWARD", "OUTPUT"},
}

// Batch collects changes applied by Commit as one nf_tables transaction.
// It is not safe for concurrent use.
type Batch struct {
	msgs    []netlink.Message
	created map[string]bool
	err     error
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{created: map[string]bool{}} }

func msg(cmd uint8, flags netlink.HeaderFlags, f Family, fn func(ae *netlink.AttributeEncoder)) netlink.Message {
	ae := attr.NewEncoder()
	fn(ae)
	b, _ := ae.Encode()
	return nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, cmd, flags, nfnl.Header{Family: uint8(f)}, b)
}

// ensure adds the table and, for a built-in chain, the chain, the way
// iptables-nft does on first use (NLM_F_CREATE, no EXCL: a no-op if they
// exist).
func (b *Batch) ensure(f Family, table, chain string) error {
	bt, ok := builtins[table]
	if !ok {
		return invalid("table %q", table)
	}
	key := fmt.Sprint(f, table)
	if !b.created[key] {
		b.created[key] = true
		b.msgs = append(b.msgs, msg(unix.NFT_MSG_NEWTABLE, netlink.Create, f, func(ae *netlink.AttributeEncoder) {
			ae.String(unix.NFTA_TABLE_NAME, table)
		}))
	}
	bc, isBuiltin := bt[chain]
	if !isBuiltin || b.created[key+"/"+chain] {
		return nil
	}
	b.created[key+"/"+chain] = true
	b.msgs = append(b.msgs, msg(unix.NFT_MSG_NEWCHAIN, netlink.Create, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_CHAIN_TABLE, table)
		ae.String(unix.NFTA_CHAIN_NAME, chain)
		nest(ae, unix.NFTA_CHAIN_HOOK, func(h *netlink.AttributeEncoder) error {
			h.Uint32(unix.NFTA_HOOK_HOOKNUM, bc.hook)
			h.Uint32(unix.NFTA_HOOK_PRIORITY, uint32(bc.prio))
			return nil
		})
		ae.Uint32(unix.NFTA_CHAIN_POLICY, 1) // NF_ACCEPT
		ae.String(unix.NFTA_CHAIN_TYPE, bc.ctype)
	}))
	return nil
}

// targetTables are the tables a target may be used in.
var targetTables = map[string][]string{
	"DNAT": {"nat"}, "SNAT": {"nat"}, "MASQUERADE": {"nat"}, "REDIRECT": {"nat"}, "NETMAP": {"nat"},
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

// Append adds r at the end of its chain, like `iptables -t TABLE -A CHAIN
// ...`. Errors about the rule are returned at once and nothing is queued.
func (b *Batch) Append(f Family, r *Rule) error {
	return b.addRule(f, r, netlink.Create|netlink.Append)
}

func (b *Batch) addRule(f Family, r *Rule, flags netlink.HeaderFlags) error {
	if !f.valid() {
		return invalid("family %d", f)
	}
	if err := checkChainName(r.Chain); err != nil {
		return invalid("%v", err)
	}
	if err := checkTargetTable(r); err != nil {
		return err
	}
	list, err := encodeRule(f, r)
	if err != nil {
		return err
	}
	exprs, err := marshalExprs(list)
	if err != nil {
		return err
	}
	if err := b.ensure(f, r.table(), r.Chain); err != nil {
		return err
	}
	var compatFlags uint32
	if r.ProtoInvert {
		compatFlags = 2 // NFT_RULE_COMPAT_F_INV
	}
	b.msgs = append(b.msgs, msg(unix.NFT_MSG_NEWRULE, flags, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_RULE_TABLE, r.table())
		ae.String(unix.NFTA_RULE_CHAIN, r.Chain)
		ae.Do(unix.NFTA_RULE_EXPRESSIONS, func() ([]byte, error) { return exprs, nil })
		nest(ae, unix.NFTA_RULE_COMPAT, func(c *netlink.AttributeEncoder) error {
			c.Uint32(unix.NFTA_RULE_COMPAT_PROTO, uint32(r.Protocol))
			c.Uint32(unix.NFTA_RULE_COMPAT_FLAGS, compatFlags)
			return nil
		})
	}))
	return nil
}

// NewChain creates a user-defined chain, like `iptables -N CHAIN`.
func (b *Batch) NewChain(f Family, table, chain string) error {
	if err := checkChainName(chain); err != nil {
		return invalid("%v", err)
	}
	if err := b.ensure(f, table, ""); err != nil {
		return err
	}
	b.msgs = append(b.msgs, msg(unix.NFT_MSG_NEWCHAIN, netlink.Excl, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_CHAIN_TABLE, table)
		ae.String(unix.NFTA_CHAIN_NAME, chain)
	}))
	return nil
}

// Commit applies the batch as one atomic nf_tables transaction.
func (c *Conn) Commit(ctx context.Context, b *Batch) error {
	if len(b.msgs) == 0 {
		return nil
	}
	_, err := c.c.Transaction(ctx, unix.NFNL_SUBSYS_NFTABLES, 0, b.msgs)
	if err != nil {
		return nlconn.WithContext(err, "commit", "iptables batch", nil)
	}
	b.msgs, b.created = nil, map[string]bool{}
	return nil
}

// ListRules returns the rules of table/chain (all chains when chain is
// ""), like `iptables -S`. A rule iptables-nft did not write yields an
// error wrapping ErrForeign.
func (c *Conn) ListRules(ctx context.Context, f Family, table, chain string) ([]*Rule, error) {
	req := msg(unix.NFT_MSG_GETRULE, 0, f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.NFTA_RULE_TABLE, table)
		if chain != "" {
			ae.String(unix.NFTA_RULE_CHAIN, chain)
		}
	})
	var out []*Rule
	for m, err := range c.c.Dump(ctx, req) {
		if err != nil {
			if nerr, ok := err.(*nlconn.Error); ok && nerr.Errno == unix.ENOENT {
				return nil, nil
			}
			return nil, err
		}
		_, body, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return nil, err
		}
		ad, err := attr.NewDecoder(body)
		if err != nil {
			return nil, err
		}
		var ch string
		var exprs []byte
		for ad.Next() {
			switch ad.Type() &^ unix.NLA_F_NESTED {
			case unix.NFTA_RULE_CHAIN:
				ch = ad.String()
			case unix.NFTA_RULE_EXPRESSIONS:
				exprs = attr.Clone(ad.Bytes())
			}
		}
		list, err := unmarshalExprs(exprs)
		if err != nil {
			return nil, err
		}
		r, err := decodeRule(f, list)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", f, table, ch, err)
		}
		r.Table, r.Chain = table, ch
		out = append(out, r)
	}
	return out, nil
}

var _ = binary.BigEndian
