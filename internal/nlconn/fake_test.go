package nlconn

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeKernel answers each sent datagram through handle, which returns the
// datagrams to queue. It records what was sent.
type fakeKernel struct {
	sent   [][]byte
	queue  [][]byte
	handle func(msgs []netlink.Message) [][]byte
}

func (f *fakeKernel) send(b []byte) error {
	f.sent = append(f.sent, append([]byte(nil), b...))
	var msgs []netlink.Message
	if err := parseMessages(b, func(m netlink.Message) bool { msgs = append(msgs, m); return true }); err != nil {
		return err
	}
	f.queue = append(f.queue, f.handle(msgs)...)
	return nil
}

func (f *fakeKernel) recv(ctx context.Context, block, _ bool) ([]byte, error) {
	if len(f.queue) == 0 {
		if !block {
			return nil, nil
		}
		return nil, errors.New("fake kernel: blocking read on an empty queue")
	}
	b := f.queue[0]
	f.queue = f.queue[1:]
	if b == nil {
		return nil, ErrOverrun
	}
	return b, nil
}
func (f *fakeKernel) setBuffers(int, int) error { return nil }
func (f *fakeKernel) close() error              { return nil }

func ack(req netlink.Message, errno unix.Errno, extack string) []byte {
	data := make([]byte, 4+headerLen)
	binary.NativeEndian.PutUint32(data[0:4], uint32(-int32(errno)))
	binary.NativeEndian.PutUint32(data[4:8], uint32(headerLen+len(req.Data)))
	binary.NativeEndian.PutUint16(data[8:10], uint16(req.Header.Type))
	binary.NativeEndian.PutUint32(data[12:16], req.Header.Sequence)
	flags := netlink.Capped
	if extack != "" {
		ae := netlink.NewAttributeEncoder()
		ae.String(unix.NLMSGERR_ATTR_MSG, extack)
		ae.Uint32(unix.NLMSGERR_ATTR_OFFS, 20)
		tlv, _ := ae.Encode()
		data = append(data, tlv...)
		flags |= netlink.AcknowledgeTLVs
	}
	return appendMessage(nil, netlink.Message{Header: netlink.Header{Type: netlink.Error, Flags: flags, Sequence: req.Header.Sequence}, Data: data})
}

func TestExecuteReturnsRepliesAndExtack(t *testing.T) {
	fk := &fakeKernel{handle: func(msgs []netlink.Message) [][]byte {
		req := msgs[0]
		reply := appendMessage(nil, netlink.Message{Header: netlink.Header{Type: 100, Sequence: req.Header.Sequence}, Data: []byte{1, 2, 3, 4}})
		if req.Header.Type == 1 {
			return [][]byte{append(reply, ack(req, 0, "")...)}
		}
		return [][]byte{ack(req, unix.EEXIST, "table exists")}
	}}
	c := newConn(fk)
	got, err := c.Execute(context.Background(), netlink.Message{Header: netlink.Header{Type: 1}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, []byte{1, 2, 3, 4}, got[0].Data)
	require.NotZero(t, got[0].Header.Sequence)

	_, err = c.Execute(context.Background(), netlink.Message{Header: netlink.Header{Type: 2}})
	var ke *Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, unix.EEXIST, ke.Errno)
	require.Equal(t, "table exists", ke.Message)
	require.Equal(t, 20, ke.Offset)
	require.True(t, errors.Is(err, unix.EEXIST))
}

func TestPipelineAttributesErrorsBySequence(t *testing.T) {
	var windows int
	fk := &fakeKernel{handle: func(msgs []netlink.Message) [][]byte {
		windows++
		var out []byte
		for _, m := range msgs {
			require.NotZero(t, m.Header.Flags&netlink.Acknowledge, "every pipelined message asks for an ack")
			errno := unix.Errno(0)
			if m.Data[1] == 0xee {
				errno = unix.ENOENT
			}
			out = append(out, ack(m, errno, "")...)
		}
		return [][]byte{out}
	}}
	c := newConn(fk)
	msgs := make([]netlink.Message, 2500)
	for i := range msgs {
		msgs[i] = netlink.Message{Header: netlink.Header{Type: 20}, Data: []byte{byte(i), 0, 0, 0}}
	}
	msgs[1500].Data[1] = 0xee
	replies, err := c.Pipeline(context.Background(), msgs, true)
	require.NoError(t, err)
	require.Equal(t, 2, windows, "the batch stops after the window holding the failure")
	for i, r := range replies {
		switch {
		case i == 1500:
			var ke *Error
			require.ErrorAs(t, r.Err, &ke)
			require.Equal(t, 1500, ke.Index)
			require.Equal(t, unix.ENOENT, ke.Errno)
		case i < 2048:
			require.NoError(t, r.Err, "index %d", i)
		default:
			require.ErrorIs(t, r.Err, ErrNotSent, "index %d", i)
		}
	}
}

func TestTransactionFramingAndErrorIndex(t *testing.T) {
	fk := &fakeKernel{handle: func(msgs []netlink.Message) [][]byte {
		require.Len(t, msgs, 5)
		require.EqualValues(t, unix.NFNL_MSG_BATCH_BEGIN, msgs[0].Header.Type)
		require.EqualValues(t, unix.NFNL_MSG_BATCH_END, msgs[4].Header.Type)
		for i := 1; i < 4; i++ {
			require.Equal(t, msgs[0].Header.Sequence+uint32(i), msgs[i].Header.Sequence)
			wantAck := i == 3
			require.Equal(t, wantAck, msgs[i].Header.Flags&netlink.Acknowledge != 0, "message %d", i)
		}
		// message index 1 fails; the kernel still acks the last one.
		return [][]byte{append(ack(msgs[2], unix.ENOENT, "No such file or directory"), ack(msgs[3], 0, "")...)}
	}}
	c := newConn(fk)
	msgs := []netlink.Message{{Header: netlink.Header{Type: 0xa00}}, {Header: netlink.Header{Type: 0xa03}}, {Header: netlink.Header{Type: 0xa06}}}
	_, err := c.Transaction(context.Background(), unix.NFNL_SUBSYS_NFTABLES, 0, msgs)
	var ke *Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, 1, ke.Index)
	require.ErrorIs(t, err, unix.ENOENT)
}

func TestTransactionBatchLevelError(t *testing.T) {
	fk := &fakeKernel{handle: func(msgs []netlink.Message) [][]byte {
		return [][]byte{ack(msgs[0], unix.ERESTART, "")} // stale generation: only BEGIN is answered
	}}
	c := newConn(fk)
	_, err := c.Transaction(context.Background(), unix.NFNL_SUBSYS_NFTABLES, 42, []netlink.Message{{Header: netlink.Header{Type: 0xa00}}})
	var ke *Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, -1, ke.Index)
	require.Equal(t, unix.ERESTART, ke.Errno)
}

func TestDumpStreamsAndReportsInterrupt(t *testing.T) {
	fk := &fakeKernel{handle: func(msgs []netlink.Message) [][]byte {
		req := msgs[0]
		var out [][]byte
		for i := 0; i < 3; i++ {
			flags := netlink.Multi
			if i == 2 {
				flags |= netlink.DumpInterrupted
			}
			out = append(out, appendMessage(nil, netlink.Message{Header: netlink.Header{Type: 100, Flags: flags, Sequence: req.Header.Sequence}, Data: []byte{byte(i)}}))
		}
		out = append(out, appendMessage(nil, netlink.Message{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: req.Header.Sequence}, Data: make([]byte, 4)}))
		return out
	}}
	c := newConn(fk)
	var got []byte
	var lastErr error
	for m, err := range c.Dump(context.Background(), netlink.Message{Header: netlink.Header{Type: 5}}) {
		if err != nil {
			lastErr = err
			break
		}
		got = append(got, m.Data[0])
	}
	require.Equal(t, []byte{0, 1, 2}, got)
	require.ErrorIs(t, lastErr, ErrDumpInterrupted)

	// Stopping early drains the rest so the next exchange is clean.
	for range c.Dump(context.Background(), netlink.Message{Header: netlink.Header{Type: 5}}) {
		break
	}
	require.Empty(t, fk.queue)
}

func TestOverrunIsReported(t *testing.T) {
	fk := &fakeKernel{handle: func([]netlink.Message) [][]byte { return nil }}
	fk.queue = [][]byte{nil}
	c := newConn(fk)
	_, err := c.Receive(context.Background())
	require.ErrorIs(t, err, ErrOverrun)
}

func FuzzParseMessages(f *testing.F) {
	f.Add(appendMessage(nil, netlink.Message{Header: netlink.Header{Type: 3}, Data: []byte{1, 2, 3}}))
	f.Add(ack(netlink.Message{Header: netlink.Header{Type: 9, Sequence: 4}}, unix.EINVAL, "bad"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseMessages(b, func(m netlink.Message) bool {
			if m.Header.Type == netlink.Error {
				_, _ = parseAck(m)
			}
			_ = doneErrno(m)
			return true
		})
	})
}
