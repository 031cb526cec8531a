package iptables

import (
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/nft"
)

// Config selects the network namespace; nil means the caller's.
type Config struct {
	NetNS int // namespace fd; 0 for the current one
}

// Conn talks nf_tables to the kernel for iptables rules. It is safe for
// concurrent use.
type Conn struct {
	c *nlconn.Conn // writes: iptables' own messages (see batch.go)
	n *nft.Conn    // reads: tables, chains and rules through package nft
}

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
	n, err := nft.Dial(&nft.Config{NetNS: nc.NetNS})
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Conn{c: c, n: n}, nil
}

// Close closes the sockets.
func (c *Conn) Close() error {
	err := c.c.Close()
	if err2 := c.n.Close(); err == nil {
		err = err2
	}
	return err
}

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
