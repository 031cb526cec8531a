package iptables

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/nft"
)

// Config selects the network namespace; nil means the caller's.
type Config struct {
	NetNS int // namespace fd; 0 for the current one
}

// Conn talks nf_tables to the kernel for iptables rules. It is safe for
// concurrent use.
type Conn struct {
	n     *nft.Conn // reads and writes through package nft (see batch.go)
	netns int

	// dumpers are extra read sockets, opened on the first Save: a netlink
	// socket runs one dump at a time, and Save overlaps the per-chain
	// rule dumps (see save.go).
	mu      sync.Mutex
	dumpers []*nlconn.Conn

	spareMu sync.Mutex
	spare   [][]byte    // Save's text buffers, kept for the next Save (save.go)
	ipset   *ipset.Conn // set name lookups, dialed on first use (sets.go)
}

// dumpSockets is how many sockets Save dumps chains on at once. Each dump
// is a short kernel round trip (~30 µs); with several in flight the
// kernel work and nfkit's decoding run on every core.
const dumpSockets = 4

// pool returns the sockets for Save's concurrent dumps, dumpSockets for
// rules and one for the chain list, opening them once. They are bare
// netlink sockets: Save reads rules and chains off them without building
// nft values (see saveWorker and saveChains).
func (c *Conn) pool() ([]*nlconn.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.dumpers) < dumpSockets+1 {
		n, err := dialSibling(c, func(netns int) (*nlconn.Conn, error) {
			return nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: netns})
		})
		if err != nil {
			return nil, err
		}
		c.dumpers = append(c.dumpers, n)
	}
	return c.dumpers, nil
}

// dialSibling opens another socket with dial in the namespace of the
// Conn's own socket. Config.NetNS is not used again after Dial: the caller
// may have closed that descriptor since, and its number may now name
// another namespace (the host's), where a per-chain dump would silently
// find nothing. Config.NetNS is the fallback only on kernels without
// SIOCGSKNS (before 4.9).
func dialSibling[T any](c *Conn, dial func(netns int) (T, error)) (T, error) {
	fd, err := c.n.NetNS()
	if err != nil {
		return dial(c.netns)
	}
	defer unix.Close(fd)
	return dial(fd)
}

// Dial opens a netfilter netlink socket (in cfg.NetNS when set).
func Dial(cfg *Config) (*Conn, error) {
	var netns int
	if cfg != nil {
		netns = cfg.NetNS
	}
	n, err := nft.Dial(&nft.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	return &Conn{n: n, netns: netns}, nil
}

// Close closes the sockets.
func (c *Conn) Close() error {
	errs := []error{c.n.Close()}
	c.mu.Lock()
	for _, d := range c.dumpers {
		errs = append(errs, d.Close())
	}
	c.dumpers = nil
	if c.ipset != nil {
		errs = append(errs, c.ipset.Close())
		c.ipset = nil
	}
	c.mu.Unlock()
	return errors.Join(errs...)
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
