package conntrack

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// ErrInvalid is wrapped by every error about bad input. Such errors are
// returned before anything is sent to the kernel.
var ErrInvalid = errors.New("conntrack: invalid argument")

// ErrEventsLost is yielded by Listen when the kernel dropped events because
// the socket's receive buffer was full (ENOBUFS). The stream continues;
// whoever mirrors the table should resynchronise with a dump. It wraps
// nlconn's overrun error.
var ErrEventsLost = fmt.Errorf("conntrack: events lost, resync: %w", nlconn.ErrOverrun)

// ErrDumpInterrupted reports a dump the kernel flagged as inconsistent
// (NLM_F_DUMP_INTR).
var ErrDumpInterrupted = nlconn.ErrDumpInterrupted

// Error is the structured error of a kernel refusal: operation, flow or
// expectation, errno, extended-ack message and, in batches, the index of the
// failing operation. errors.Is works with unix errnos and with
// fs.ErrNotExist / fs.ErrExist.
type Error = nlconn.Error

// errnoTable gives ctnetlink's errnos their meaning here.
var errnoTable = nlconn.ErrnoTable{
	unix.ENOENT:     {Text: "no such conntrack entry", Is: []error{fs.ErrNotExist}},
	unix.EEXIST:     {Text: "conntrack entry exists", Is: []error{fs.ErrExist}},
	unix.EBUSY:      {Text: "status bits cannot be changed that way", Hint: "SEEN_REPLY, ASSURED, CONFIRMED, EXPECTED and DYING cannot be cleared or set by hand"},
	unix.EOPNOTSUPP: {Text: "operation not supported by this kernel or for this flow"},
	unix.ENOSPC:     {Text: "conntrack table full", Hint: "raise net.netfilter.nf_conntrack_max"},
}

func withContext(err error, op, object string) error {
	if err == nil {
		return nil
	}
	return nlconn.WithContext(err, op, object, errnoTable)
}

// invalid builds an ErrInvalid error naming the field and its value.
func invalid(field string, value any, why string) error {
	return fmt.Errorf("%w: %s %v: %s", ErrInvalid, field, value, why)
}
