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
	// RecvSize, when set, reads each datagram straight into a buffer of
	// this many bytes, without first peeking at its size: one recvmsg per
	// datagram instead of two, which matters where syscalls are slow and
	// replies small (IPVS lists destinations with one dump per service).
	// A datagram longer than RecvSize is an error, never a silent
	// truncation; the kernel caps a dump datagram at 32 KiB. 0 peeks.
	RecvSize int
}

// transport is what a Conn needs from a socket. The real one is a netlink
// socket; tests use a fake kernel.
type transport interface {
	send(b []byte) error
	// recv reads one datagram into a fresh buffer. With block=false it
	// returns (nil, nil) when nothing is queued.
	recv(ctx context.Context, block bool) ([]byte, error)
	setBuffers(read, write int) error
	close() error
}

// Conn is a netlink connection for one protocol (NETLINK_NETFILTER or
// NETLINK_GENERIC).
type Conn struct {
	mu      sync.Mutex
	t       transport
	seq     uint32
	readBuf int // current receive buffer target
	sendBuf int // current send buffer target
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
	t := &sockTransport{nc: nc, raw: raw, fixed: max(cfg.RecvSize, 0)}
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
	nc  *netlink.Conn
	raw syscall.RawConn
	buf []byte // peek/read scratch; callers are serialised by Conn.mu
	// fixed is Config.RecvSize: read without peeking into a buffer of
	// this size (0: peek first).
	fixed int
}

func (s *sockTransport) close() error { return s.nc.Close() }

func (s *sockTransport) send(b []byte) error {
	var serr error
	err := s.raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
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

func (s *sockTransport) recv(ctx context.Context, block bool) ([]byte, error) {
	if block {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			_ = s.nc.SetReadDeadline(time.Unix(1, 0))
			close(fired)
		})
		defer func() {
			// stop reports false once the callback has started; it may
			// still be about to set the deadline, so wait for it before
			// clearing, or the next exchange would time out at once.
			if !stop() {
				<-fired
				_ = s.nc.SetReadDeadline(time.Time{})
			}
		}()
	}
	var (
		n    int
		rerr error
	)
	if s.fixed > 0 {
		return s.recvFixed(ctx, block)
	}
	if s.buf == nil {
		s.buf = make([]byte, 64*1024)
	}
	buf := s.buf
	flags := unix.MSG_PEEK | unix.MSG_TRUNC
	if !block {
		flags |= unix.MSG_DONTWAIT
	}
	peek := func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), buf, flags)
		return !block || rerr != unix.EAGAIN
	}
	if err := s.raw.Read(peek); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if rerr == unix.EAGAIN && !block {
		return nil, nil
	}
	if rerr == unix.ENOBUFS {
		return nil, ErrOverrun
	}
	if rerr != nil {
		return nil, fmt.Errorf("netlink recvmsg: %w", rerr)
	}
	if n > len(buf) {
		s.buf = make([]byte, n)
		buf = s.buf
	}
	// The datagram is queued; this read cannot block.
	if err := s.raw.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		return true
	}); err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, fmt.Errorf("netlink recvmsg: %w", rerr)
	}
	// Hand out a right-sized copy: messages alias it, and a 64 KiB buffer
	// per small reply would waste memory on long dumps.
	out := make([]byte, n)
	copy(out, buf[:n])
	return out, nil
}

// recvFixed is recv without the size peek (Config.RecvSize). MSG_TRUNC
// makes the kernel return the datagram's real length, so a datagram that
// did not fit is reported instead of being cut.
func (s *sockTransport) recvFixed(ctx context.Context, block bool) ([]byte, error) {
	if len(s.buf) != s.fixed {
		s.buf = make([]byte, s.fixed)
	}
	var (
		n    int
		rerr error
	)
	flags := unix.MSG_TRUNC
	if !block {
		flags |= unix.MSG_DONTWAIT
	}
	if err := s.raw.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), s.buf, flags)
		return !block || rerr != unix.EAGAIN
	}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	switch {
	case rerr == unix.EAGAIN && !block:
		return nil, nil
	case rerr == unix.ENOBUFS:
		return nil, ErrOverrun
	case rerr != nil:
		return nil, fmt.Errorf("netlink recvmsg: %w", rerr)
	case n > len(s.buf):
		return nil, fmt.Errorf("netlink recvmsg: datagram of %d bytes exceeds Config.RecvSize %d", n, len(s.buf))
	}
	out := make([]byte, n)
	copy(out, s.buf[:n])
	return out, nil
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
