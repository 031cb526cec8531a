package ipvs

import (
	"context"
	"errors"

	"github.com/mdlayher/netlink"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// ErrNotSent marks a batch operation that was not sent because an earlier
// one failed.
var ErrNotSent = nlconn.ErrNotSent

// Batch collects IPVS operations and sends them pipelined: many per
// sendmsg, each acknowledged on its own, in order. It is NOT atomic (the
// kernel has no IPVS transactions): operations before a failing one stay
// applied, and Commit reports each operation's outcome. Apply adds
// ordering and optional rollback on top.
//
// A Batch is a value owned by one goroutine; it is not safe for
// concurrent use.
type Batch struct {
	c *Conn
	// ContinueOnError sends every operation even after one fails. By
	// default, once a failure is seen nothing more is sent: operations
	// not yet sent are reported as ErrNotSent, while those already sent
	// in the same pipelined window (up to 1024 operations) were applied
	// or refused on their own, and Commit reports which.
	ContinueOnError bool
	ops             []batchOp
}

type batchOp struct {
	desc string
	cmd  command
	b    []byte
	err  error // validation error, reported before anything is sent
}

// Result is the outcome of one operation of a batch: Err is nil when the
// kernel applied it, a kernel error, or ErrNotSent.
type Result struct {
	Op  string
	Err error
}

// NewBatch returns an empty batch bound to c.
func (c *Conn) NewBatch() *Batch { return &Batch{c: c} }

// Len is the number of queued operations.
func (b *Batch) Len() int { return len(b.ops) }

// Reset empties the batch.
func (b *Batch) Reset() { b.ops = b.ops[:0] }

func (b *Batch) add(desc string, cmd command, attrs []byte, err error) {
	b.ops = append(b.ops, batchOp{desc: desc, cmd: cmd, b: attrs, err: err})
}

// AddService queues `ipvsadm -A`; the service's Destinations are queued
// after it.
func (b *Batch) AddService(s *Service) {
	err := s.validate()
	var attrs []byte
	if err == nil {
		attrs, err = serviceAttrs(s, true)
	}
	b.add("add service "+s.ServiceKey.String(), cmdNewService, attrs, err)
	for i := range s.Destinations {
		b.AddDestination(s.ServiceKey, &s.Destinations[i])
	}
}

// UpdateService queues `ipvsadm -E`.
func (b *Batch) UpdateService(s *Service) {
	err := s.validate()
	var attrs []byte
	if err == nil {
		attrs, err = serviceAttrs(s, true)
	}
	b.add("update service "+s.ServiceKey.String(), cmdSetService, attrs, err)
}

// DeleteService queues `ipvsadm -D`.
func (b *Batch) DeleteService(k ServiceKey) {
	err := k.validate()
	var attrs []byte
	if err == nil {
		attrs, err = serviceAttrs(&Service{ServiceKey: k}, false)
	}
	b.add("delete service "+k.String(), cmdDelService, attrs, err)
}

func (b *Batch) destOp(verb string, cmd command, k ServiceKey, d *Destination, full bool) {
	err := k.validate()
	if err == nil && full {
		err = d.validate()
	} else if err == nil && !d.Addr.IsValid() {
		err = invalid("destination address", d.Addr, "missing")
	}
	var attrs []byte
	if err == nil {
		attrs, err = destAttrs(k, d, full)
	}
	b.add(verb+" destination "+k.String()+" -r "+destString(d.DestinationKey), cmd, attrs, err)
}

// AddDestination queues `ipvsadm -a`.
func (b *Batch) AddDestination(k ServiceKey, d *Destination) {
	b.destOp("add", cmdNewDest, k, d, true)
}

// UpdateDestination queues `ipvsadm -e`.
func (b *Batch) UpdateDestination(k ServiceKey, d *Destination) {
	b.destOp("update", cmdSetDest, k, d, true)
}

// DeleteDestination queues `ipvsadm -d`.
func (b *Batch) DeleteDestination(k ServiceKey, d DestinationKey) {
	b.destOp("delete", cmdDelDest, k, &Destination{DestinationKey: d}, false)
}

// Flush queues `ipvsadm -C`: every service and destination is removed
// when the batch reaches this point.
func (b *Batch) Flush() { b.add("flush", cmdFlush, nil, nil) }

// Zero queues `ipvsadm -Z [-t VIP:PORT]`: the counters of one service, or
// of every service when k is nil.
func (b *Batch) Zero(k *ServiceKey) {
	if k == nil {
		b.add("zero counters", cmdZero, nil, nil)
		return
	}
	err := k.validate()
	var attrs []byte
	if err == nil {
		attrs, err = serviceAttrs(&Service{ServiceKey: *k}, false)
	}
	b.add("zero counters "+k.String(), cmdZero, attrs, err)
}

// Commit validates every operation, then sends them pipelined in order.
// It returns one Result per operation and the first failure (a *Error
// with the operation's index), or nil when all were applied. A
// validation error is returned before anything is sent.
func (b *Batch) Commit(ctx context.Context) ([]Result, error) {
	res := make([]Result, len(b.ops))
	msgs := make([]netlink.Message, len(b.ops))
	for i, op := range b.ops {
		res[i] = Result{Op: op.desc, Err: ErrNotSent}
		if op.err != nil {
			return res, op.err
		}
		msgs[i] = b.c.message(op.cmd, op.b)
	}
	replies, err := b.c.c.Pipeline(ctx, msgs, !b.ContinueOnError)
	var first error
	for i := range replies {
		e := replies[i].Err
		if e != nil && !errors.Is(e, nlconn.ErrNotSent) {
			e = wrap(e, b.ops[i].desc, "")
			if first == nil {
				first = e
			}
		}
		res[i].Err = e
	}
	if err != nil {
		return res, err
	}
	return res, first
}
