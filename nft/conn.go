package nft

import (
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
func (c *Conn) Close() error { return c.nl.Close() }

const subsys = unix.NFNL_SUBSYS_NFTABLES
