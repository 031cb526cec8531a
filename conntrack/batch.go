package conntrack

import (
	"context"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// Batch collects flow and expectation changes and sends them in order,
// many per system call, when committed. It is NOT atomic: ctnetlink has
// no transactions, so each operation succeeds or fails on its own and the
// ones before a failure stay applied. Invalid input is rejected when the
// operation is added, before anything is sent.
//
// A Batch is not safe for concurrent use; build it in one goroutine.
type Batch struct {
	c    *Conn
	msgs []netlink.Message
	desc []string
	// StopOnError stops sending after the window holding the first
	// failure; operations never sent report nlconn's "not sent" error.
	StopOnError bool
}

// NewBatch returns an empty batch bound to c.
func (c *Conn) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of operations queued.
func (b *Batch) Len() int { return len(b.msgs) }

// Create queues a Conn.Create.
func (b *Batch) Create(f Flow) error {
	m, err := f.writeMessage(true)
	return b.add(m, err, "create flow "+f.Origin.String())
}

// Update queues a Conn.Update.
func (b *Batch) Update(f Flow) error {
	m, err := f.writeMessage(false)
	return b.add(m, err, "update flow "+f.Origin.String())
}

// Delete queues a Conn.Delete.
func (b *Batch) Delete(key Flow) error {
	m, err := key.keyMessage(ctMsgDelete)
	t, _, _ := key.key()
	return b.add(m, err, "delete flow "+t.String())
}

// CreateExpectation queues a Conn.CreateExpectation.
func (b *Batch) CreateExpectation(e Expectation) error {
	m, err := e.createMessage()
	return b.add(m, err, "create expectation "+e.Tuple.String())
}

// DeleteExpectation queues a Conn.DeleteExpectation.
func (b *Batch) DeleteExpectation(e Expectation) error {
	m, err := e.keyMessage(expMsgDelete)
	return b.add(m, err, "delete expectation "+e.Tuple.String())
}

func (b *Batch) add(m netlink.Message, err error, desc string) error {
	if err != nil {
		return err
	}
	b.msgs = append(b.msgs, m)
	b.desc = append(b.desc, desc)
	return nil
}

// Commit sends the queued operations in order and empties the batch. The
// error joins one *Error per refused operation (its Index is the
// operation's position); use CommitResults for every outcome.
func (b *Batch) Commit(ctx context.Context) error {
	_, err := b.CommitResults(ctx)
	return err
}

// CommitResults is Commit returning one error (nil on success) per
// operation, in order.
func (b *Batch) CommitResults(ctx context.Context) ([]error, error) {
	msgs, desc := b.msgs, b.desc
	b.msgs, b.desc = nil, nil
	replies, err := b.c.nl.Pipeline(ctx, msgs, b.StopOnError)
	results := make([]error, len(replies))
	var errs []error
	for i, r := range replies {
		if r.Err == nil {
			continue
		}
		e := r.Err
		if !errors.Is(e, nlconn.ErrNotSent) {
			e = withContext(e, desc[i], "")
		}
		results[i] = e
		if len(errs) < 16 {
			errs = append(errs, e)
		} else if len(errs) == 16 {
			errs = append(errs, fmt.Errorf("and more failures"))
		}
	}
	if err != nil {
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}
