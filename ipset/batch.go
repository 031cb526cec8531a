package ipset

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Batch is a list of ipset operations sent together, many entries per
// netlink message (up to 64 KiB of entries each). It is NOT atomic: the
// kernel has no transactions for ipset. Operations apply in order and, by
// default, stop at the first failure; with ContinueOnError every message
// is pipelined (many per sendmsg) and each succeeds or fails on its own.
// On failure the *BatchError says exactly which entries were applied. For
// an atomic change of a set's contents use Conn.ReplaceSet.
//
// A Batch is a plain value, not safe for concurrent use; it can be
// committed more than once.
type Batch struct {
	// ContinueOnError pipelines every message and keeps going after a
	// refused one. By default the batch stops at the first failure: each
	// message is sent once the previous one is acknowledged, and
	// operations and entries not sent are reported as not applied.
	ContinueOnError bool

	ops []batchOp
}

type opCode uint8

const (
	opCreate opCode = iota + 1
	opDestroy
	opFlush
	opRename
	opSwap
	opAddEntries
	opDelEntries
)

type batchOp struct {
	code    opCode
	exist   bool
	set     Set
	name    string
	name2   string
	entries []Entry
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

// Len is the number of operations queued.
func (b *Batch) Len() int { return len(b.ops) }

// Create queues `ipset create`.
func (b *Batch) Create(s Set) { b.ops = append(b.ops, batchOp{code: opCreate, set: s, name: s.Name}) }

// CreateExist queues `ipset -exist create`.
func (b *Batch) CreateExist(s Set) {
	b.ops = append(b.ops, batchOp{code: opCreate, exist: true, set: s, name: s.Name})
}

// Destroy queues `ipset destroy NAME`.
func (b *Batch) Destroy(name string) { b.ops = append(b.ops, batchOp{code: opDestroy, name: name}) }

// Flush queues `ipset flush NAME`.
func (b *Batch) Flush(name string) { b.ops = append(b.ops, batchOp{code: opFlush, name: name}) }

// Rename queues `ipset rename FROM TO`.
func (b *Batch) Rename(from, to string) {
	b.ops = append(b.ops, batchOp{code: opRename, name: from, name2: to})
}

// Swap queues `ipset swap A B`.
func (b *Batch) Swap(a, c string) { b.ops = append(b.ops, batchOp{code: opSwap, name: a, name2: c}) }

// Add queues `ipset add SET ENTRY` for each entry (an entry already
// present is an error).
func (b *Batch) Add(set string, entries ...Entry) {
	b.ops = append(b.ops, batchOp{code: opAddEntries, name: set, entries: entries})
}

// AddExist queues `ipset -exist add`: present entries are updated
// (timeout, counters, comment, skbinfo) instead of refused.
func (b *Batch) AddExist(set string, entries ...Entry) {
	b.ops = append(b.ops, batchOp{code: opAddEntries, exist: true, name: set, entries: entries})
}

// Delete queues `ipset del SET ENTRY` for each entry (a missing entry is
// an error).
func (b *Batch) Delete(set string, entries ...Entry) {
	b.ops = append(b.ops, batchOp{code: opDelEntries, name: set, entries: entries})
}

// DeleteExist queues `ipset -exist del`: missing entries are ignored.
func (b *Batch) DeleteExist(set string, entries ...Entry) {
	b.ops = append(b.ops, batchOp{code: opDelEntries, exist: true, name: set, entries: entries})
}

func (o *batchOp) verb() string {
	switch o.code {
	case opCreate:
		return "create"
	case opDestroy:
		return "destroy"
	case opFlush:
		return "flush"
	case opRename:
		return "rename"
	case opSwap:
		return "swap"
	case opAddEntries:
		return "add"
	case opDelEntries:
		return "del"
	}
	return "?"
}

// Span is a half-open range [From, To) of entry indexes.
type Span struct{ From, To int }

// EntryError is an entry the kernel refused.
type EntryError struct {
	Index int   // index in the operation's entries
	Entry Entry //
	Err   error // *Error; errors.Is works
}

// OpResult is what happened to one operation of a committed batch.
type OpResult struct {
	Op  string // "create", "add", "del", ...
	Set string
	// Err is nil when the operation was applied in full; otherwise its
	// first error (ErrNotSent when nothing of it was sent).
	Err error
	// For add/del: the entries refused by the kernel, and the entries
	// that were not processed (after a refused entry in the same message,
	// or in messages never sent). Every other entry was applied.
	Entries int
	Failed  []EntryError
	Skipped []Span
	// Unknown lists entries sent whose outcome was never read (the
	// exchange failed, e.g. the context was cancelled).
	Unknown []Span
}

// Applied reports whether entry i of an add/del operation was applied.
func (r *OpResult) Applied(i int) bool {
	if r.Err == nil {
		return true
	}
	for _, f := range r.Failed {
		if f.Index == i {
			return false
		}
	}
	for _, s := range append(r.Skipped, r.Unknown...) {
		if i >= s.From && i < s.To {
			return false
		}
	}
	return true
}

// AppliedCount is the number of entries applied.
func (r *OpResult) AppliedCount() int {
	if r.Err == nil {
		return r.Entries
	}
	n := r.Entries - len(r.Failed)
	for _, s := range append(r.Skipped, r.Unknown...) {
		n -= s.To - s.From
	}
	return n
}

// BatchError reports a batch that was not applied in full: one result per
// operation, in order. errors.Is looks through every operation's error.
type BatchError struct {
	Ops []OpResult
}

func (e *BatchError) Error() string {
	var b strings.Builder
	failed := 0
	for i := range e.Ops {
		r := &e.Ops[i]
		if r.Err == nil || errors.Is(r.Err, nlconn.ErrNotSent) {
			continue
		}
		if failed == 0 {
			fmt.Fprintf(&b, "ipset batch: operation %d (%s %s): ", i, r.Op, r.Set)
			if len(r.Failed) > 0 {
				fmt.Fprintf(&b, "entry %d (%s): %v", r.Failed[0].Index, r.Failed[0].Entry.String(), r.Failed[0].Err)
			} else {
				b.WriteString(r.Err.Error())
			}
			if r.Entries > 0 {
				fmt.Fprintf(&b, "; %d of %d entries applied", r.AppliedCount(), r.Entries)
			}
		}
		failed++
	}
	if failed > 1 {
		fmt.Fprintf(&b, " (and %d more failed operations)", failed-1)
	}
	notSent := 0
	for i := range e.Ops {
		if errors.Is(e.Ops[i].Err, nlconn.ErrNotSent) {
			notSent++
		}
	}
	if notSent > 0 {
		fmt.Fprintf(&b, "; %d operations not sent", notSent)
	}
	return b.String()
}

// Unwrap returns every operation's error.
func (e *BatchError) Unwrap() []error {
	var out []error
	for i := range e.Ops {
		if e.Ops[i].Err != nil {
			out = append(out, e.Ops[i].Err)
		}
		for _, f := range e.Ops[i].Failed {
			out = append(out, f.Err)
		}
	}
	return out
}

// ErrNotSent marks operations of a batch that were never sent because an
// earlier one failed.
var ErrNotSent = nlconn.ErrNotSent

// maxADT bounds the entries' bytes in one message: the IPSET_ATTR_ADT nest
// length is 16 bits.
const maxADT = 65535 - 64

// chunk is one netlink message of a committed batch.
type chunk struct {
	op         int // index of the batch operation
	from, to   int // entries [from, to) of that operation
	msg        netlink.Message
	setKind    kind
	withLineNo bool
}

// Commit sends the batch on c. Everything is validated first (set names,
// entries against their set's type, family and options, which are read
// from the kernel for sets the batch does not create); invalid input is an
// ErrInvalid and nothing is sent. A failure is a *BatchError.
func (b *Batch) Commit(ctx context.Context, c *Conn) error { return c.Commit(ctx, b) }

// Commit sends a batch; see Batch.Commit.
func (c *Conn) Commit(ctx context.Context, b *Batch) error {
	chunks, err := c.encodeBatch(ctx, b)
	if err != nil {
		return err
	}
	return c.commitChunks(ctx, b, chunks)
}

// send sends the messages of a batch. With continueOnError they are all
// pipelined. Otherwise each message waits for the previous one's answer:
// the kernel handles every message of a sendmsg even after one fails, so
// pipelining cannot stop at the first failure. A message holds up to 64
// KiB of entries, so a bulk load still costs one round trip per ~2 000
// entries.
func (c *Conn) send(ctx context.Context, msgs []netlink.Message, continueOnError bool) ([]nlconn.Reply, error) {
	if continueOnError {
		return c.nl.Pipeline(ctx, msgs, false)
	}
	replies := make([]nlconn.Reply, len(msgs))
	for i := range replies {
		replies[i].Err = nlconn.ErrNotSent
	}
	for i := range msgs {
		r, err := c.nl.Pipeline(ctx, msgs[i:i+1], true)
		if len(r) == 1 {
			replies[i] = r[0]
			var ke *nlconn.Error
			if errors.As(r[0].Err, &ke) {
				ke.Index = i
			}
		}
		if err != nil {
			return replies, err
		}
		if replies[i].Err != nil {
			break
		}
	}
	return replies, nil
}

// commitChunks sends an encoded batch and builds its report.
func (c *Conn) commitChunks(ctx context.Context, b *Batch, chunks []chunk) error {
	msgs := make([]netlink.Message, len(chunks))
	for i := range chunks {
		msgs[i] = chunks[i].msg
	}
	replies, perr := c.send(ctx, msgs, b.ContinueOnError)
	res := make([]OpResult, len(b.ops))
	for i := range b.ops {
		o := &b.ops[i]
		res[i] = OpResult{Op: o.verb(), Set: o.name, Entries: len(o.entries)}
	}
	failed := false
	for i, ch := range chunks {
		var rerr error
		if i < len(replies) {
			rerr = replies[i].Err
		} else {
			rerr = perr
		}
		if rerr == nil {
			continue
		}
		failed = true
		o := &b.ops[ch.op]
		r := &res[ch.op]
		ok := opOther
		switch o.code {
		case opAddEntries:
			ok = opAdd
		case opDelEntries:
			ok = opDel
		}
		var ke *nlconn.Error
		if !errors.As(rerr, &ke) {
			if errors.Is(rerr, nlconn.ErrNotSent) {
				if r.Err == nil {
					r.Err = nlconn.ErrNotSent
				}
				if ch.to > ch.from {
					r.Skipped = appendSpan(r.Skipped, ch.from, ch.to)
				}
				continue
			}
			if r.Err == nil || errors.Is(r.Err, nlconn.ErrNotSent) {
				r.Err = rerr
			}
			if ch.to > ch.from {
				r.Unknown = appendSpan(r.Unknown, ch.from, ch.to)
			}
			continue
		}
		werr := wrap(rerr, "ipset "+o.verb(), o.name, ok, ch.setKind)
		if we, isK := werr.(*nlconn.Error); isK {
			we.Index = ch.op // the operation, not the netlink message
		}
		if r.Err == nil || errors.Is(r.Err, nlconn.ErrNotSent) {
			r.Err = werr
		}
		if ch.to == ch.from {
			continue
		}
		line := 0
		if ch.withLineNo {
			line = failedLine(ke.Request)
		}
		if line < 1 || line > ch.to-ch.from {
			// Refused before any entry (e.g. the set is missing).
			r.Skipped = appendSpan(r.Skipped, ch.from, ch.to)
			continue
		}
		idx := ch.from + line - 1
		r.Failed = append(r.Failed, EntryError{Index: idx, Entry: o.entries[idx], Err: werr})
		if idx+1 < ch.to {
			r.Skipped = appendSpan(r.Skipped, idx+1, ch.to)
		}
	}
	if !failed {
		return perr
	}
	return &BatchError{Ops: res}
}

func appendSpan(s []Span, from, to int) []Span {
	if n := len(s); n > 0 && s[n-1].To == from {
		s[n-1].To = to
		return s
	}
	return append(s, Span{from, to})
}

// failedLine reads IPSET_ATTR_LINENO from the request the kernel echoed
// in its error: ipset writes the failing entry's line number there.
func failedLine(req []byte) int {
	if len(req) < 16+nfnl.HeaderLen {
		return 0
	}
	it := attr.NewIter(req[16+nfnl.HeaderLen:])
	for it.Next() {
		if it.Kind() == attrLineNo {
			v, err := uintAttr(&it)
			if err != nil {
				return 0
			}
			return int(v)
		}
	}
	return 0
}
