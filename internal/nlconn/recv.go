package nlconn

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receiving.
//
// Every datagram is read with MSG_TRUNC into a scratch buffer of
// Config.RecvSize bytes (64 KiB by default) without first peeking at its
// size: a peek would double the syscalls of a dump. MSG_TRUNC makes the
// kernel return the datagram's real length, so one that did not fit is
// reported, never cut. The kernel caps a dump datagram at the receive size
// user space last offered, and at 32 KiB (netlink_recvmsg), so with the
// default every dump datagram uses the full 32 KiB, and no netfilter reply
// comes near 64 KiB.
//
// Reads take up to two datagrams per syscall (recvmmsg with
// MSG_WAITFORONE: wait for the first, take a second only if it is already
// queued). A dump that fits one datagram, which is most per-chain and
// per-service dumps, is answered by two: the data, and NLMSG_DONE, which
// the kernel queues while the first is being read. Reading both at once
// saves a third of the syscalls of a listing made of many small dumps; the
// second datagram is handed out by the next recv.

// mmsghdr is struct mmsghdr: a msghdr and the length received into it.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// recvState is a socket's read scratch. Callers are serialised by Conn.mu.
type recvState struct {
	bufs [2][]byte
	iovs [2]unix.Iovec
	hdrs [2]mmsghdr
	// A datagram read ahead (index ahead into bufs, -1: none) is handed
	// out by the next recv, copied or not as that recv asks.
	ahead int

	// The state of one recv, shared with its raw.Read callback.
	ctx     context.Context
	block   bool
	unwatch func()
	got     int
	err     error
}

func newRecvState(size int) *recvState {
	r := &recvState{ahead: -1}
	for i := range r.bufs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
	}
	return r
}

// watch makes a blocked read return when ctx is cancelled, by moving the
// socket's read deadline into the past, until the returned function is
// called. A context that can never be cancelled costs nothing.
func (s *sockTransport) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	unarm := context.AfterFunc(ctx, func() {
		_ = s.nc.SetReadDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		// unarm reports false once the callback has started; it may
		// still be about to set the deadline, so wait for it before
		// clearing, or the next read would time out at once.
		if !unarm() {
			<-fired
			_ = s.nc.SetReadDeadline(time.Time{})
		}
	}
}

// recv returns one datagram: a right-sized copy (messages alias it, and a
// 64 KiB buffer per small reply would waste memory on long dumps), or with
// borrow the socket's scratch buffer itself, valid until the next recv.
// With block=false it returns (nil, nil) when nothing is queued.
func (s *sockTransport) recv(ctx context.Context, block, borrow bool) ([]byte, error) {
	if s.rx == nil {
		s.rx = newRecvState(s.size)
	}
	r := s.rx
	if i := r.ahead; i >= 0 {
		r.ahead = -1
		return r.take(i, borrow)
	}
	if block {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	r.ctx, r.block, r.unwatch = ctx, block, nil
	err := s.raw.Read(s.readFn)
	got, rerr := r.got, r.err
	if r.unwatch != nil {
		r.unwatch()
	}
	r.ctx, r.unwatch, r.err = nil, nil, nil
	if err != nil {
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
	}
	if got > 1 {
		// The second datagram is handed out, or its error reported, in
		// turn: by the next recv. Its buffer is not read into again
		// before then.
		r.ahead = 1
	}
	return r.take(0, borrow)
}

// readOnce is the raw.Read callback of recv.
func (s *sockTransport) readOnce(fd uintptr) bool {
	r := s.rx
	flags := unix.MSG_TRUNC | unix.MSG_WAITFORONE
	if !r.block {
		flags |= unix.MSG_DONTWAIT
	}
	r.got, r.err = recvmmsg(int(fd), r.hdrs[:], flags)
	if r.block && r.err == unix.EAGAIN {
		// About to wait: only now does cancellation matter. Most reads
		// never get here (a dump's data is queued while the request is
		// sent), so they never pay for a context callback.
		if r.unwatch == nil {
			r.unwatch = s.watch(r.ctx)
		}
		return false
	}
	return true
}

// take hands out datagram i of the last recvmmsg, copied unless borrow.
func (r *recvState) take(i int, borrow bool) ([]byte, error) {
	n := int(r.hdrs[i].n)
	if n > len(r.bufs[i]) {
		return nil, fmt.Errorf("netlink recvmsg: datagram of %d bytes exceeds the %d-byte receive size (Config.RecvSize)", n, len(r.bufs[i]))
	}
	if borrow {
		return r.bufs[i][:n], nil
	}
	out := make([]byte, n)
	copy(out, r.bufs[i][:n])
	return out, nil
}

// recvmmsg reads up to len(hdrs) datagrams; it returns how many.
func recvmmsg(fd int, hdrs []mmsghdr, flags int) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
