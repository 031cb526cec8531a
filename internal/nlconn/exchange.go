package nlconn

import (
	"context"
	"iter"

	"github.com/mdlayher/netlink"
)

func kernelError(a ackInfo, index int) *Error {
	return &Error{Index: index, Errno: a.errno, Message: a.message, Offset: a.offset, Request: a.request}
}

// Execute sends one request with NLM_F_ACK and returns the replies that
// precede the acknowledgement. A kernel error comes back as *Error.
func (c *Conn) Execute(ctx context.Context, req netlink.Message) ([]netlink.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	req.Header.Flags |= netlink.Request | netlink.Acknowledge
	req.Header.Sequence = c.nextSeq()
	c.wbuf = appendMessage(c.wbuf[:0], req)
	if err := c.t.send(c.wbuf); err != nil {
		return nil, err
	}
	var replies []netlink.Message
	for {
		b, err := c.t.recv(ctx, true, false)
		if err != nil {
			return nil, err
		}
		done := false
		var perr error
		if err := parseMessages(b, func(m netlink.Message) bool {
			if m.Header.Sequence != req.Header.Sequence {
				return true // a stale reply to an abandoned exchange
			}
			switch m.Header.Type {
			case netlink.Error:
				a, err := parseAck(m)
				if err != nil {
					perr = err
				} else if a.errno != 0 {
					perr = kernelError(a, -1)
				}
				done = true
				return false
			case netlink.Done:
				if e := doneErrno(m); e != 0 {
					perr = &Error{Index: -1, Errno: e}
				}
				done = true
				return false
			}
			replies = append(replies, m)
			return true
		}); err != nil {
			return nil, err
		}
		if perr != nil {
			return nil, perr
		}
		if done {
			return replies, nil
		}
	}
}

// Dump sends a dump request and streams the replies. Each message aliases a
// buffer private to its datagram, so a consumer may keep it. Memory is
// bounded by one datagram at a time. NLM_F_DUMP_INTR on any part is reported
// as ErrDumpInterrupted after the last message. Stopping early drains the
// rest of the dump so the socket stays usable.
func (c *Conn) Dump(ctx context.Context, req netlink.Message) iter.Seq2[netlink.Message, error] {
	return c.dump(ctx, req, false)
}

// DumpBorrowed is Dump for a consumer that is done with each message
// before it asks for the next: messages alias the socket's receive buffer,
// which the next datagram overwrites. It spares a copy (and an allocation)
// of every reply datagram, which is most of a dump's memory traffic when
// the consumer decodes into values of its own anyway.
func (c *Conn) DumpBorrowed(ctx context.Context, req netlink.Message) iter.Seq2[netlink.Message, error] {
	return c.dump(ctx, req, true)
}

func (c *Conn) dump(ctx context.Context, req netlink.Message, borrow bool) iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if err := c.settle(ctx); err != nil {
			yield(netlink.Message{}, err)
			return
		}
		req.Header.Flags |= netlink.Request | netlink.Dump
		req.Header.Sequence = c.nextSeq()
		c.wbuf = appendMessage(c.wbuf[:0], req)
		if err := c.t.send(c.wbuf); err != nil {
			yield(netlink.Message{}, err)
			return
		}
		var (
			stopped     bool
			interrupted bool
		)
		for {
			b, err := c.t.recv(ctx, true, borrow)
			if err != nil {
				// The kernel's dump may still be running on the socket;
				// the next exchange finishes it first.
				c.unfinished = req.Header.Sequence
				if !stopped {
					yield(netlink.Message{}, err)
				}
				return
			}
			done := false
			var derr error
			perr := parseMessages(b, func(m netlink.Message) bool {
				if m.Header.Sequence != req.Header.Sequence {
					return true
				}
				if m.Header.Flags&netlink.DumpInterrupted != 0 {
					interrupted = true
				}
				switch m.Header.Type {
				case netlink.Done:
					if e := doneErrno(m); e != 0 {
						derr = &Error{Index: -1, Errno: e}
					}
					done = true
					return false
				case netlink.Error:
					a, err := parseAck(m)
					if err != nil {
						derr = err
					} else if a.errno != 0 {
						derr = kernelError(a, -1)
					}
					done = true
					return false
				}
				if !stopped && !yield(m, nil) {
					stopped = true
				}
				return true
			})
			if perr != nil {
				if !done {
					c.unfinished = req.Header.Sequence
				}
				if !stopped {
					yield(netlink.Message{}, perr)
				}
				return
			}
			if done {
				if stopped {
					return
				}
				if derr != nil {
					yield(netlink.Message{}, derr)
				} else if interrupted {
					yield(netlink.Message{}, ErrDumpInterrupted)
				}
				return
			}
		}
	}
}

// Reply is the outcome of one message of a pipelined batch.
type Reply struct {
	// Err is nil when the kernel acknowledged the message, an *Error when
	// it refused it, and ErrNotSent when it was never sent.
	Err error
	// Messages are the non-ack replies to it (e.g. the answer to a GET).
	Messages []netlink.Message
}

// pipelineWindow bounds how many acknowledged messages are in flight, so the
// acknowledgements (one small skb each) never overflow the receive buffer.
const pipelineWindow = 1024

// pipelineChunk bounds the bytes of one sendmsg in a pipelined batch.
const pipelineChunk = 1 << 20

// Pipeline sends msgs in order, many per sendmsg, each with NLM_F_ACK, and
// returns one Reply per message. It is not atomic: every message is applied
// or refused on its own. With stopOnError, once a window holding a refused
// message has been read, the rest are not sent (their Reply.Err is
// ErrNotSent); messages in the same window after the failing one were
// already sent and their own outcome is reported.
func (c *Conn) Pipeline(ctx context.Context, msgs []netlink.Message, stopOnError bool) ([]Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	replies := make([]Reply, len(msgs))
	for i := range replies {
		replies[i].Err = ErrNotSent
	}
	if err := c.settle(ctx); err != nil {
		return replies, err
	}
	if err := c.growBuffers(0, pipelineWindow*1024); err != nil {
		return replies, err
	}
	var buf []byte
	for start := 0; start < len(msgs); {
		if err := ctx.Err(); err != nil {
			return replies, err
		}
		// Sequence numbers of one window are consecutive from first.
		first := c.nextSeq()
		if first+pipelineWindow < first { // would wrap: restart low
			c.seq = 0
			first = c.nextSeq()
		}
		c.seq = first - 1
		buf = buf[:0]
		end := start
		for end < len(msgs) && end-start < pipelineWindow {
			m := msgs[end]
			m.Header.Flags |= netlink.Request | netlink.Acknowledge
			m.Header.Sequence = first + uint32(end-start)
			next := appendMessage(buf, m)
			if end > start && len(next) > pipelineChunk {
				break
			}
			buf = next
			end++
		}
		c.seq = first + uint32(end-start) - 1
		if err := c.growBuffers(len(buf), 0); err != nil {
			return replies, err
		}
		if err := c.t.send(buf); err != nil {
			return replies, err
		}
		answered := make([]bool, end-start)
		pending := end - start
		failed := false
		for pending > 0 {
			b, err := c.t.recv(ctx, true, false)
			if err != nil {
				// Unanswered messages were sent but their fate is unknown.
				for i, ok := range answered {
					if !ok {
						replies[start+i].Err = err
					}
				}
				return replies, err
			}
			var perr error
			if err := parseMessages(b, func(m netlink.Message) bool {
				off := int(m.Header.Sequence - first)
				if m.Header.Sequence < first || off >= end-start {
					return true
				}
				idx := start + off
				if m.Header.Type != netlink.Error {
					replies[idx].Messages = append(replies[idx].Messages, m)
					return true
				}
				a, err := parseAck(m)
				if err != nil {
					perr = err
					return false
				}
				replies[idx].Err = nil
				if a.errno != 0 {
					replies[idx].Err = kernelError(a, idx)
					failed = true
				}
				if !answered[off] {
					answered[off] = true
					pending--
				}
				return true
			}); err != nil {
				return replies, err
			}
			if perr != nil {
				return replies, perr
			}
		}
		start = end
		if failed && stopOnError {
			break
		}
	}
	return replies, nil
}

// Receive reads the next datagram of a multicast (event) socket and yields
// its messages. ENOBUFS comes back as ErrOverrun and the socket stays
// usable.
func (c *Conn) Receive(ctx context.Context) ([]netlink.Message, error) {
	b, err := c.t.recv(ctx, true, false)
	if err != nil {
		return nil, err
	}
	var out []netlink.Message
	err = parseMessages(b, func(m netlink.Message) bool {
		out = append(out, m)
		return true
	})
	return out, err
}

// settle finishes a dump an earlier exchange gave up on (its context was
// cancelled, or a read failed) before this exchange starts: the kernel
// runs one dump per socket at a time and keeps producing the abandoned
// one as the socket is read, so a new dump request would fail with EBUSY
// and its replies would queue behind stale ones. It reads, and drops, the
// rest of that dump. Must be called with c.mu held.
func (c *Conn) settle(ctx context.Context) error {
	for c.unfinished != 0 {
		b, err := c.t.recv(ctx, true, true)
		if err != nil {
			return err
		}
		if err := parseMessages(b, func(m netlink.Message) bool {
			if m.Header.Sequence == c.unfinished && (m.Header.Type == netlink.Done || m.Header.Type == netlink.Error) {
				c.unfinished = 0
				return false
			}
			return true
		}); err != nil {
			return err
		}
	}
	return nil
}
