package ipvs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mdlayher/netlink"
	"github.com/nfkit/nfkit/internal/nlconn"
	"golang.org/x/sys/unix"
)

// Config configures a Conn. The zero value (or nil) works.
type Config struct {
	// NetNS is a network namespace file descriptor; the socket is bound
	// inside it at dial time, so every operation applies to that
	// namespace's IPVS. 0 means the caller's namespace.
	NetNS int
	// ListWorkers bounds the sockets ListServices uses to read
	// destinations in parallel (one dump per service is the kernel's only
	// way); 0 means 4.
	ListWorkers int
}

// Conn is a connection to the kernel's IPVS. It is safe for concurrent
// use: requests on its socket are serialised, and ListServices reads
// destinations over a small pool of extra sockets.
type Conn struct {
	c       *nlconn.Conn
	family  uint16
	cfg     Config
	poolMu  sync.Mutex
	pool    []*nlconn.Conn // idle extra sockets for parallel dumps
	closeMu sync.Mutex
	closed  bool
}

// Dial opens a generic netlink socket and resolves the IPVS family. A
// kernel without IPVS gives an error matching ErrNotSupported.
func Dial(cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nc, err := nlconn.Dial(unix.NETLINK_GENERIC, sockConfig(cfg.NetNS))
	if err != nil {
		return nil, fmt.Errorf("ipvs: dial: %w", err)
	}
	id, err := resolveFamily(context.Background(), nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c := &Conn{c: nc, family: id, cfg: *cfg}
	if c.cfg.ListWorkers <= 0 {
		c.cfg.ListWorkers = 4
	}
	return c, nil
}

// resolveFamily asks the generic netlink controller for the IPVS family id.
func resolveFamily(ctx context.Context, nc *nlconn.Conn) (uint16, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.CTRL_ATTR_FAMILY_NAME, genlName)
	b, err := ae.Encode()
	if err != nil {
		return 0, err
	}
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.GENL_ID_CTRL)},
		Data:   append([]byte{unix.CTRL_CMD_GETFAMILY, 1, 0, 0}, b...),
	}
	replies, err := nc.Execute(ctx, req)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, fmt.Errorf("%w: generic netlink family %q not found", ErrNotSupported, genlName)
		}
		return 0, fmt.Errorf("ipvs: resolve generic netlink family %q: %w", genlName, err)
	}
	for _, m := range replies {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, err
		}
		for ad.Next() {
			if ad.Type() == unix.CTRL_ATTR_FAMILY_ID {
				return ad.Uint16(), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: no family id in the controller's reply", ErrNotSupported)
}

// Close closes the connection and its extra sockets.
func (c *Conn) Close() error {
	c.closeMu.Lock()
	c.closed = true
	c.closeMu.Unlock()
	c.poolMu.Lock()
	for _, p := range c.pool {
		p.Close()
	}
	c.pool = nil
	c.poolMu.Unlock()
	return c.c.Close()
}

// message builds a generic netlink request of the IPVS family.
func (c *Conn) message(cmd command, attrs []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family)},
		Data:   append([]byte{byte(cmd), genlVersion, 0, 0}, attrs...),
	}
}

// execute sends one request and maps the error.
func (c *Conn) execute(ctx context.Context, cmd command, attrs []byte, op, object string) ([]netlink.Message, error) {
	msgs, err := c.c.Execute(ctx, c.message(cmd, attrs))
	return msgs, wrap(err, op, object)
}

// getSocket takes an idle extra socket or dials one.
func (c *Conn) getSocket() (*nlconn.Conn, error) {
	c.poolMu.Lock()
	if n := len(c.pool); n > 0 {
		s := c.pool[n-1]
		c.pool = c.pool[:n-1]
		c.poolMu.Unlock()
		return s, nil
	}
	c.poolMu.Unlock()
	cfg := sockConfig(c.cfg.NetNS)
	cfg.RecvSize = destRecvSize
	return c.c.DialSibling(unix.NETLINK_GENERIC, *cfg)
}

// sockConfig is the configuration of every IPVS socket: nlconn's 64 KiB
// reads, which hold any IPVS reply (dump datagrams are capped by the
// kernel at 32 KiB). The destination sockets read less (destRecvSize).
func sockConfig(netns int) *nlconn.Config {
	return &nlconn.Config{NetNS: netns}
}

// destRecvSize is the receive size of the extra sockets that dump
// destinations, one small dump per service. The kernel sizes every dump
// datagram (NLMSG_DONE included) by the largest read the socket has offered
// (netlink_dump: max_recvmsg_len, capped near 32 KiB), not by the reply: a
// 64 KiB read made it allocate two 32 KiB buffers per service, above the
// slab's 8 KiB limit so from the page allocator, for 3.6 KiB of reply (ten
// destinations). Offering 7872 bytes, which is SKB_WITH_OVERHEAD(8192),
// keeps both in the 8 KiB slab; under qemu TCG the same 2 000 bare dumps
// took 300 ms instead of 570. It is also the largest NLMSG_GOODSIZE (the
// kernel's floor for a dump datagram, 3776 bytes with 4 KiB pages, 7872
// with larger ones), so no datagram can exceed it. A service with more
// destinations than fit is simply dumped in more datagrams.
const destRecvSize = 7872

func (c *Conn) putSocket(s *nlconn.Conn) {
	c.closeMu.Lock()
	closed := c.closed
	c.closeMu.Unlock()
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if closed || len(c.pool) >= c.cfg.ListWorkers {
		s.Close()
		return
	}
	c.pool = append(c.pool, s)
}

// payload returns a reply's attributes after the genetlink header.
func payload(m netlink.Message) []byte {
	if len(m.Data) < 4 {
		return nil
	}
	return m.Data[4:]
}

// nested finds the first attribute of type t in a reply. The result
// aliases the message; decoders copy what they keep.
func nested(m netlink.Message, t uint16) ([]byte, bool, error) {
	w := newWalker(payload(m))
	for w.Next() {
		if w.Kind() == t {
			return w.Data(), true, nil
		}
	}
	return nil, false, w.err()
}
