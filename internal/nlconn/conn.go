// Package nlconn is the only code in nfkit that touches a netlink socket. It
// dials (optionally inside another network namespace, by binding the socket
// there at dial time), sends single requests, pipelined batches and nf_tables
// transactions, streams dumps, and maps every NLMSG_ERROR back to the message
// that caused it by sequence number.
//
// A Conn is safe for concurrent use: each exchange holds the connection for
// its duration, so replies never interleave.
package nlconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Config configures a Conn. The zero value is a socket in the caller's
// network namespace with kernel-default buffers.
type Config struct {
	// NetNS is a file descriptor of a network namespace (e.g. from
	// /run/netns/NAME); 0 means the namespace of the calling thread.
	NetNS int
	// Groups is a multicast group bitmask joined at bind time (events).
	Groups uint32
	// ReadBuffer and WriteBuffer set the socket buffers in bytes (forced past
	// the sysctl limits when running with CAP_NET_ADMIN). 0 keeps the default
	// and lets big batches grow them as needed.
	ReadBuffer, WriteBuffer int
	// RecvSize is the buffer each datagram is read into, with one recvmsg
	// (no size peek: that would double the syscalls of a dump). A
	// datagram longer than RecvSize is an error, never a silent
	// truncation. 0 means defaultRecvSize (64 KiB), which holds any
	// netfilter reply: the kernel caps a dump datagram at 32 KiB.
	RecvSize int
}

// defaultRecvSize is the receive buffer when Config.RecvSize is 0.
const defaultRecvSize = 64 << 10

// transport is what a Conn needs from a socket. The real one is a netlink
// socket; tests use a fake kernel.
type transport interface {
	send(b []byte) error
	// recv reads one datagram into a fresh buffer. With block=false it
	// returns (nil, nil) when nothing is queued.
	// With borrow the datagram may alias a buffer the next recv reuses.
	recv(ctx context.Context, block, borrow bool) ([]byte, error)
	setBuffers(read, write int) error
	close() error
}

// Conn is a netlink connection for one protocol (NETLINK_NETFILTER or
// NETLINK_GENERIC).
type Conn struct {
	mu   sync.Mutex
	t    transport
	seq  uint32
	wbuf []byte // request scratch of Execute and Dump (the kernel copies on send)
	// unfinished is the sequence number of a dump abandoned before its
	// end, 0 when none: see settle.
	unfinished uint32
	readBuf    int // current receive buffer target
	sendBuf    int // current send buffer target
}

// Dial opens a netlink socket of the given protocol.
func Dial(protocol int, cfg *Config) (*Conn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	nc, err := netlink.Dial(protocol, &netlink.Config{NetNS: cfg.NetNS, Groups: cfg.Groups})
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil, fmt.Errorf("dial netlink protocol %d: %w (is the subsystem built into this kernel?)", protocol, err)
		}
		return nil, fmt.Errorf("dial netlink protocol %d: %w", protocol, err)
	}
	// Extended acks give the kernel's reason with each error; capped acks
	// keep error replies small so a big batch cannot overflow the receive
	// buffer with echoed requests. Both exist since Linux 4.12; an older
	// kernel only loses the message text, so failures here are ignored.
	_ = nc.SetOption(netlink.ExtendedAcknowledge, true)
	_ = nc.SetOption(netlink.CapAcknowledge, true)
	raw, err := nc.SyscallConn()
	if err != nil {
		nc.Close()
		return nil, err
	}
	size := cfg.RecvSize
	if size <= 0 {
		size = defaultRecvSize
	}
	t := &sockTransport{nc: nc, raw: raw, size: size}
	// The raw I/O callbacks are made once per socket: a closure per call
	// would be an allocation per request and per datagram.
	t.sendFn, t.readFn = t.sendOnce, t.readOnce
	c := newConn(t)
	if err := c.SetBuffers(cfg.ReadBuffer, cfg.WriteBuffer); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func newConn(t transport) *Conn {
	return &Conn{t: t, seq: uint32(time.Now().UnixNano())}
}

// Close closes the socket.
func (c *Conn) Close() error { return c.t.close() }

// SetBuffers sets the socket's receive and send buffer sizes in bytes; 0
// leaves one unchanged.
func (c *Conn) SetBuffers(read, write int) error {
	if err := c.t.setBuffers(read, write); err != nil {
		return err
	}
	if read > 0 {
		c.readBuf = read
	}
	if write > 0 {
		c.sendBuf = write
	}
	return nil
}

// growBuffers makes sure a batch of size bytes fits in one sendmsg and its
// replies fit in the receive buffer. Must be called with c.mu held.
func (c *Conn) growBuffers(sendBytes, recvBytes int) error {
	var r, w int
	if sendBytes+4096 > c.sendBuf {
		w = sendBytes + 4096
	}
	if recvBytes > c.readBuf {
		r = recvBytes
	}
	if r == 0 && w == 0 {
		return nil
	}
	return c.SetBuffers(r, w)
}

func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 { // sequence 0 is what multicast notifications carry
		c.seq++
	}
	return c.seq
}

// sockTransport is a real netlink socket. It reads through the runtime
// poller so that context cancellation (via read deadlines) works.
type sockTransport struct {
	nc   *netlink.Conn
	raw  syscall.RawConn
	size int // Config.RecvSize, or defaultRecvSize
	rx   *recvState
	// send's state: the request and the outcome of sendOnce.
	out    []byte
	outErr error
	sendFn func(fd uintptr) bool
	readFn func(fd uintptr) bool
}

func (s *sockTransport) close() error { return s.nc.Close() }

func (s *sockTransport) send(b []byte) error {
	s.out, s.outErr = b, nil
	err := s.raw.Write(s.sendFn)
	serr := s.outErr
	s.out, s.outErr = nil, nil
	if err != nil {
		return err
	}
	if serr != nil {
		if serr == unix.EMSGSIZE {
			return fmt.Errorf("netlink sendmsg of %d bytes: %w (send buffer too small)", len(b), serr)
		}
		return fmt.Errorf("netlink sendmsg: %w", serr)
	}
	return nil
}

// sendOnce is the raw.Write callback of send: it sends s.out to
// the kernel with send(2), no address needed on a netlink socket bound
// to nothing but the kernel.
func (s *sockTransport) sendOnce(fd uintptr) bool {
	_, _, errno := unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(s.out))), uintptr(len(s.out)), 0, 0, 0)
	if errno != 0 {
		s.outErr = errno
	}
	return errno != unix.EAGAIN
}

func (s *sockTransport) setBuffers(read, write int) error {
	var serr error
	err := s.raw.Control(func(fd uintptr) {
		if read > 0 {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, read); e != nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, read)
			}
		}
		if write > 0 && serr == nil {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, write); e != nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, write)
			}
		}
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set netlink socket buffers: %w", serr)
	}
	return nil
}
