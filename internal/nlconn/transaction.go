package nlconn

import (
	"context"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/nfnl"
)

// Transaction sends msgs as one nfnetlink batch for subsys (in practice
// nf_tables, the only subsystem with commit/abort): BATCH_BEGIN, the
// messages, BATCH_END, all in a single sendmsg. The kernel applies all of
// them or none.
//
// Only the last message asks for an acknowledgement: errors come back for
// any failing message anyway, tagged with its sequence number, and a
// per-message ACK costs several times the commit itself on big batches.
// The kernel handles the batch inside sendmsg, so every reply is queued by
// the time it returns; the replies are drained until the last message's
// acknowledgement or, after an error, until the queue is empty.
//
// It returns, per message, the replies the kernel sent for it (NLM_F_ECHO
// notifications carry assigned handles). The error is the failing message
// with the lowest index as *Error (Index set); an error about the batch as
// a whole (e.g. ERESTART from a stale generation) has Index -1.
func (c *Conn) Transaction(ctx context.Context, subsys uint8, genID uint32, msgs []netlink.Message) ([][]netlink.Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.settle(ctx); err != nil {
		return nil, err
	}

	n := uint32(len(msgs))
	begin := c.nextSeq()
	if begin+n+1 < begin { // keep the batch's sequence numbers contiguous
		c.seq = 0
		begin = c.nextSeq()
	}
	c.seq = begin + n + 1
	last := begin + n

	size := 0
	echo := false
	for _, m := range msgs {
		size += align(headerLen + len(m.Data))
		echo = echo || m.Header.Flags&netlink.Echo != 0
	}
	buf := make([]byte, 0, size+2*(headerLen+16))
	bm := nfnl.BatchBegin(subsys, genID)
	bm.Header.Sequence = begin
	buf = appendMessage(buf, bm)
	for i, m := range msgs {
		m.Header.Flags |= netlink.Request
		m.Header.Sequence = begin + 1 + uint32(i)
		if m.Header.Sequence == last {
			m.Header.Flags |= netlink.Acknowledge
		}
		buf = appendMessage(buf, m)
	}
	em := nfnl.BatchEnd(subsys)
	em.Header.Sequence = last + 1
	buf = appendMessage(buf, em)

	recvNeed := 4 << 20
	if echo && 2*size > recvNeed {
		recvNeed = 2 * size // echoed objects are about the size of the request
	}
	if err := c.growBuffers(len(buf), recvNeed); err != nil {
		return nil, err
	}
	if err := c.t.send(buf); err != nil {
		return nil, err
	}

	replies := make([][]netlink.Message, len(msgs))
	var (
		firstErr *Error
		lastSeen bool
	)
	for {
		block := !lastSeen && firstErr == nil
		b, err := c.t.recv(ctx, block, false)
		if err != nil {
			return replies, err
		}
		if b == nil { // queue empty and we know the outcome
			break
		}
		var perr error
		if err := parseMessages(b, func(m netlink.Message) bool {
			seq := m.Header.Sequence
			if seq < begin || seq > last+1 {
				return true
			}
			idx := int(seq-begin) - 1 // -1: BATCH_BEGIN, len(msgs): BATCH_END
			if m.Header.Type != netlink.Error {
				if idx >= 0 && idx < len(msgs) {
					replies[idx] = append(replies[idx], m)
				}
				return true
			}
			a, err := parseAck(m)
			if err != nil {
				perr = err
				return false
			}
			if seq == last {
				lastSeen = true
			}
			if a.errno == 0 {
				return true
			}
			if idx < 0 || idx >= len(msgs) {
				idx = -1
			}
			e := kernelError(a, idx)
			if firstErr == nil || (firstErr.Index == -1 && idx >= 0) || (idx >= 0 && idx < firstErr.Index) {
				firstErr = e
			}
			return true
		}); err != nil {
			return replies, err
		}
		if perr != nil {
			return replies, perr
		}
	}
	if firstErr != nil {
		return replies, firstErr
	}
	return replies, nil
}
