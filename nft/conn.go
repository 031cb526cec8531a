package nft

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nfkit/nfkit/internal/nlconn"
	"golang.org/x/sys/unix"
)

// Config configures a Conn. A nil *Config is the zero value: a socket in
// the caller's network namespace.
type Config struct {
	// NetNS is a network namespace file descriptor (e.g. of
	// /run/netns/NAME); 0 is the calling thread's namespace. The socket is
	// bound there at dial time; no thread ever switches namespaces.
	NetNS int
	// ReadBuffer and WriteBuffer set the socket buffer sizes in bytes. 0
	// keeps the defaults; big batches grow them as needed.
	ReadBuffer, WriteBuffer int
}

// Conn is a connection to nf_tables. It is safe for concurrent use.
type Conn struct {
	nl  *nlconn.Conn
	cfg Config

	// Extra read sockets for listing rules chain by chain (rule_list.go):
	// a netlink socket runs one dump at a time, so overlapping per-chain
	// dumps need sockets of their own. Dialed on first use in the
	// namespace of nl, kept idle up to dumpSockets, closed by Close.
	poolMu sync.Mutex
	idle   []*nlconn.Conn
	closed bool

	// Tests and benchmarks only: force a rule listing strategy, and run a
	// function between the chain list and the per-chain rule dumps.
	listMode   listMode
	hookChains func()
	sockets    int // dumping sockets per listing; 0: dumpSockets
	switchAt   int // listByChain: rules taken from the first dump
}

// Dial opens a connection to nf_tables (a NETLINK_NETFILTER socket).
func Dial(cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nl, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{
		NetNS:       cfg.NetNS,
		ReadBuffer:  cfg.ReadBuffer,
		WriteBuffer: cfg.WriteBuffer,
	})
	if err != nil {
		return nil, err
	}
	return &Conn{nl: nl, cfg: *cfg}, nil
}

// Close closes the connection. Tables created with TableOwner are removed
// by the kernel when it closes.
func (c *Conn) Close() error {
	c.poolMu.Lock()
	errs := []error{c.nl.Close()}
	for _, s := range c.idle {
		errs = append(errs, s.Close())
	}
	c.idle, c.closed = nil, true
	c.poolMu.Unlock()
	return errors.Join(errs...)
}

// dumper returns an idle extra socket, or dials one in the Conn's
// namespace (see dialSibling).
func (c *Conn) dumper() (*nlconn.Conn, error) {
	c.poolMu.Lock()
	if c.closed {
		c.poolMu.Unlock()
		return nil, errors.New("nft: use of closed Conn")
	}
	if n := len(c.idle); n > 0 {
		s := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.poolMu.Unlock()
		return s, nil
	}
	c.poolMu.Unlock()
	return c.dialSibling(&nlconn.Config{ReadBuffer: c.cfg.ReadBuffer})
}

// NetNS returns a new descriptor of the network namespace the Conn's
// socket lives in (ioctl SIOCGSKNS, Linux 4.9+), for opening other
// sockets there later: unlike Config.NetNS it stays right after the
// caller has closed that descriptor, or its number was reused for
// another namespace. The caller closes it.
func (c *Conn) NetNS() (int, error) {
	fd, err := c.nl.NetNS()
	if err != nil {
		return -1, fmt.Errorf("nft: namespace of the connection: %w", err)
	}
	return fd, nil
}

// dialSibling opens another NETLINK_NETFILTER socket (dump pool, event
// subscriptions) in the namespace of the Conn's own socket, never through
// Config.NetNS, whose descriptor may have been closed, and its number
// reused, since Dial. Config.NetNS is the fallback only on kernels
// without SIOCGSKNS.
func (c *Conn) dialSibling(cfg *nlconn.Config) (*nlconn.Conn, error) {
	cfg.NetNS = c.cfg.NetNS
	return c.nl.DialSibling(unix.NETLINK_NETFILTER, *cfg)
}

// release gives a socket back to the idle pool. A socket whose dump was
// cut short (cancelled context, transport error) may still have a dump
// running in the kernel, which would make its next dump fail with EBUSY:
// it is closed instead, as are sockets beyond dumpSockets.
func (c *Conn) release(s *nlconn.Conn, healthy bool) {
	c.poolMu.Lock()
	keep := healthy && !c.closed && len(c.idle) < dumpSockets
	if keep {
		c.idle = append(c.idle, s)
	}
	c.poolMu.Unlock()
	if !keep {
		s.Close()
	}
}

const subsys = unix.NFNL_SUBSYS_NFTABLES
