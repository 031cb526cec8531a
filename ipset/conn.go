package ipset

import (
	"context"
	"fmt"
	"sync"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Config configures a Conn. The zero value (or nil) is a socket in the
// caller's network namespace.
type Config struct {
	// NetNS is a network namespace file descriptor (e.g. of
	// /run/netns/NAME); 0 means the caller's namespace. The socket is
	// bound inside it at dial time; no thread switches namespaces later.
	NetNS int
	// ReadBuffer and WriteBuffer size the socket buffers in bytes; 0 keeps
	// the defaults, which bulk operations grow as they need.
	ReadBuffer, WriteBuffer int
}

// Conn is a connection to the kernel's ipset subsystem. It is safe for
// concurrent use.
type Conn struct {
	nl       *nlconn.Conn
	protocol uint8 // negotiated protocol version (6 or 7)

	mu   sync.Mutex
	revs map[revKey]revRange // kernel revision ranges per type and family
}

type revKey struct {
	t SetType
	f Family
}

type revRange struct{ min, max uint8 }

// Dial opens a netlink socket to ipset and negotiates the protocol version
// with the kernel (IPSET_CMD_PROTOCOL): nfkit speaks 6 and 7 and uses the
// highest both sides have.
func Dial(cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nl, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: cfg.NetNS, ReadBuffer: cfg.ReadBuffer, WriteBuffer: cfg.WriteBuffer})
	if err != nil {
		return nil, err
	}
	c := &Conn{nl: nl, protocol: protocolMax, revs: map[revKey]revRange{}}
	if err := c.negotiate(context.Background()); err != nil {
		nl.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.nl.Close() }

// Protocol is the ipset protocol version in use (6 or 7).
func (c *Conn) Protocol() int { return int(c.protocol) }

// negotiate asks the kernel for its protocol range. The kernel answers
// with its own version (and, since protocol 7, its minimum).
func (c *Conn) negotiate(ctx context.Context) error {
	w := c.newAttrs(0) // carries protocolMax: c.protocol is not negotiated yet
	msgs, err := c.nl.Execute(ctx, c.message(cmdProtocol, 0, w.Buf))
	if err != nil {
		return wrap(err, "ipset protocol", "", opOther, 0)
	}
	kmax, kmin := uint8(0), uint8(0)
	for _, m := range msgs {
		_, attrs, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return err
		}
		it := attr.NewIter(attrs)
		for it.Next() {
			v, _ := uintAttr(&it)
			switch it.Kind() {
			case attrProtocol:
				kmax = uint8(v)
			case attrProtocolMin:
				kmin = uint8(v)
			}
		}
	}
	if kmin == 0 {
		kmin = kmax
	}
	p := min(kmax, uint8(protocolMax))
	if p < protocolMin || p < kmin {
		return fmt.Errorf("ipset: kernel speaks protocol %d-%d, nfkit %d-%d", kmin, kmax, protocolMin, protocolMax)
	}
	c.protocol = p
	return nil
}

// message builds an ipset request. Every request starts with the protocol
// attribute, which the kernel checks. The nfgenmsg family is NFPROTO_IPV4
// as the ipset CLI sends it; the kernel does not look at it.
func (c *Conn) message(cmd command, flags netlink.HeaderFlags, attrs []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: nfnl.Type(unix.NFNL_SUBSYS_IPSET, uint8(cmd)), Flags: netlink.Request | flags},
		Data:   attrs,
	}
}

// newAttrs starts a request body: nfgenmsg header plus protocol attribute.
func (c *Conn) newAttrs(capHint int) *abuf {
	// Small enough to inline, so that the abuf stays on the caller's stack.
	var w abuf
	w.Buf = nfnl.Header{Family: unix.NFPROTO_IPV4, Version: unix.NFNETLINK_V0}.Marshal(make([]byte, 0, capHint+16))
	w.U8(attrProtocol, c.protocol)
	return &w
}

// Revisions returns the range of revisions the kernel has for a set type
// and family (IPSET_CMD_TYPE), like the ipset CLI asks before a create.
// A type the kernel lacks is ErrTypeUnsupported.
func (c *Conn) Revisions(ctx context.Context, t SetType, f Family) (minRev, maxRev uint8, err error) {
	ti, ok := lookupType(t)
	if !ok {
		return 0, 0, invalid("Type", t, "unknown set type")
	}
	f = ti.effectiveFamily(f)
	c.mu.Lock()
	r, ok := c.revs[revKey{t, f}]
	c.mu.Unlock()
	if ok {
		return r.min, r.max, nil
	}
	w := c.newAttrs(64)
	w.String(attrTypeName, string(t))
	w.U8(attrFamily, uint8(f))
	msgs, err := c.nl.Execute(ctx, c.message(cmdType, 0, w.Buf))
	if err != nil {
		return 0, 0, wrap(err, "ipset type", string(t)+" family "+f.String(), opOther, ti.kind)
	}
	for _, m := range msgs {
		_, attrs, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return 0, 0, err
		}
		it := attr.NewIter(attrs)
		for it.Next() {
			switch it.Kind() {
			case attrRevision:
				v, _ := uintAttr(&it)
				r.max = uint8(v)
			case attrRevisionMin:
				v, _ := uintAttr(&it)
				r.min = uint8(v)
			}
		}
	}
	c.mu.Lock()
	c.revs[revKey{t, f}] = r
	c.mu.Unlock()
	return r.min, r.max, nil
}

// execute sends one request and wraps a kernel error with context.
func (c *Conn) execute(ctx context.Context, cmd command, flags netlink.HeaderFlags, w *abuf, op, object string, ok opKind, k kind) ([]netlink.Message, error) {
	msgs, err := c.nl.Execute(ctx, c.message(cmd, flags, w.Buf))
	return msgs, wrap(err, op, object, ok, k)
}
