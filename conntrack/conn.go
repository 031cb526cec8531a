package conntrack

import (
	"context"
	"errors"
	"sync"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Config configures a Conn. The zero value (or nil) works: a socket in the
// caller's network namespace.
type Config struct {
	// NetNS is a network namespace file descriptor (e.g. an open
	// /run/netns/NAME); 0 means the caller's namespace. The socket is bound
	// there at dial time; no thread switches namespaces later.
	NetNS int
	// ReadBuffer and WriteBuffer size the request socket; 0 keeps the
	// defaults (pipelines grow them as needed).
	ReadBuffer, WriteBuffer int
	// EventBuffer is the receive buffer of the sockets Listen opens;
	// 0 means 16 MiB, enough for bursts of about 50 000 events.
	EventBuffer int
}

// Conn is a ctnetlink connection. It is safe for concurrent use.
type Conn struct {
	cfg Config
	nl  *nlconn.Conn

	// aux carries the deletes of DeleteMatching while nl streams the
	// dump that selects them: one socket cannot do both at once.
	auxMu sync.Mutex
	aux   *nlconn.Conn
}

// Dial opens a ctnetlink connection.
func Dial(cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nl, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: cfg.NetNS, ReadBuffer: cfg.ReadBuffer, WriteBuffer: cfg.WriteBuffer})
	if err != nil {
		return nil, err
	}
	return &Conn{cfg: *cfg, nl: nl}, nil
}

// Close closes the connection's sockets. Event streams from Listen have
// their own sockets and end with their context.
func (c *Conn) Close() error {
	err := c.nl.Close()
	c.auxMu.Lock()
	if c.aux != nil {
		err = errors.Join(err, c.aux.Close())
		c.aux = nil
	}
	c.auxMu.Unlock()
	return err
}

func (c *Conn) auxConn() (*nlconn.Conn, error) {
	c.auxMu.Lock()
	defer c.auxMu.Unlock()
	if c.aux == nil {
		a, err := c.nl.DialSibling(unix.NETLINK_NETFILTER, nlconn.Config{NetNS: c.cfg.NetNS})
		if err != nil {
			return nil, err
		}
		c.aux = a
	}
	return c.aux, nil
}

// request builds a ctnetlink message.
func request(subsys, cmd uint8, flags netlink.HeaderFlags, fam Family, attrs []byte) netlink.Message {
	return nfnl.NewMessage(subsys, cmd, flags, nfnl.Header{Family: uint8(fam), Version: unix.NFNETLINK_V0}, attrs)
}

func (c *Conn) execute(ctx context.Context, m netlink.Message, op, object string) ([]netlink.Message, error) {
	replies, err := c.nl.Execute(ctx, m)
	return replies, withContext(err, op, object)
}
