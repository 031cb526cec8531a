package nlconn

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrDumpInterrupted reports that the kernel flagged a dump with
// NLM_F_DUMP_INTR: the object list changed while it was being read, so what
// was returned may be inconsistent. Callers retry the dump.
var ErrDumpInterrupted = errors.New("netlink dump interrupted by a concurrent change (NLM_F_DUMP_INTR)")

// ErrOverrun reports ENOBUFS on a socket: the kernel dropped messages because
// the receive buffer was full. For events it means "events lost, resync".
var ErrOverrun = errors.New("netlink receive buffer overrun: messages were lost (ENOBUFS)")

// ErrNotSent marks an operation of a pipelined batch that was never sent
// because an earlier operation failed and the batch stops on error.
var ErrNotSent = errors.New("not sent: an earlier operation of the batch failed")

// ErrnoInfo describes a subsystem-specific errno: its text and which
// standard errors it should match with errors.Is.
type ErrnoInfo struct {
	Text string  // human text for this errno in this subsystem
	Is   []error // e.g. fs.ErrNotExist, unix.ENOENT
	Hint string  // likely cause, shown in the message
}

// ErrnoTable maps errnos to subsystem meanings. IPVS answers ESRCH for a
// missing service and ipset uses private errnos from 4096; a table lets
// errors.Is(err, fs.ErrNotExist) work for both.
type ErrnoTable map[unix.Errno]ErrnoInfo

// Error is the structured error every nfkit package returns for a failure
// reported by the kernel.
type Error struct {
	Op      string     // operation, e.g. "add rule"
	Object  string     // the object, e.g. `table ip filter`
	Index   int        // position of the failing operation in a batch; -1 outside a batch
	Errno   unix.Errno // errno the kernel returned
	Message string     // the kernel's extended-ack message, if any
	Offset  int        // extended-ack offset into the failing message, if any
	Table   ErrnoTable // subsystem meanings of Errno; may be nil
	Err     error      // a non-errno cause (e.g. ErrOverrun), if any
	// Request is the failing request (netlink header included) when the
	// kernel echoed it in full; ipset does, with the line number of the
	// failing entry written into it. Nil otherwise.
	Request []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.Object != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Object)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " (batch operation %d)", e.Index)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	switch {
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		info, ok := e.Table[e.Errno]
		if ok && info.Text != "" {
			b.WriteString(info.Text)
		} else {
			b.WriteString(e.Errno.Error())
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		if ok && info.Hint != "" {
			b.WriteString(" (")
			b.WriteString(info.Hint)
			b.WriteString(")")
		}
	}
	return b.String()
}

// Unwrap exposes the errno and any standard errors the subsystem table maps
// it to, so errors.Is works for unix.EEXIST, fs.ErrNotExist and friends.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	if info, ok := e.Table[e.Errno]; ok {
		errs = append(errs, info.Is...)
	}
	return errs
}

// Is lets errors.Is match fs sentinel errors through the errno, as
// unix.Errno does, even for errnos above the standard range.
func (e *Error) Is(target error) bool {
	switch target {
	case fs.ErrExist, fs.ErrNotExist, fs.ErrPermission:
		if e.Errno != 0 && e.Errno < 4096 {
			return e.Errno.Is(target)
		}
	}
	return false
}

// WithContext returns a copy of err, if it is an *Error, with the operation,
// object and table filled in; other errors come back unchanged.
func WithContext(err error, op, object string, table ErrnoTable) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	if c.Op == "" {
		c.Op = op
	}
	if c.Object == "" {
		c.Object = object
	}
	if c.Table == nil {
		c.Table = table
	}
	return &c
}
