package nft

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/nft/expr"
)

// ErrInvalid is wrapped by every error about invalid input, returned
// before anything is sent to the kernel. The message names the field and
// the value.
var ErrInvalid = errors.New("nft: invalid argument")

// ErrConflict reports that a batch committed with a generation check was
// refused because someone else changed the ruleset since the generation
// was read (the kernel answers ERESTART). Nothing was applied; rebuild the
// batch from fresh state and retry (see Conn.Retry).
var ErrConflict = errors.New("nft: ruleset changed since its generation was read")

// Error is the structured error for a failure reported by the kernel: the
// operation ("add rule"), the object (`rule inet filter input`), the index
// of the failing operation in its batch (-1 outside a batch), the errno
// and the kernel's extended-ack message. errors.Is works with unix errnos,
// fs.ErrExist / fs.ErrNotExist and ErrConflict.
type Error = nlconn.Error

// errnoTable gives nf_tables meanings to errnos.
var errnoTable = nlconn.ErrnoTable{
	unix.ERESTART: {
		Text: "ruleset generation changed (ERESTART)",
		Is:   []error{ErrConflict},
		Hint: "another process committed in between; rebuild and retry",
	},
	unix.ENOENT: {
		Text: "no such object (ENOENT)",
		Is:   []error{fs.ErrNotExist},
	},
	unix.EEXIST: {
		Text: "object exists (EEXIST)",
		Is:   []error{fs.ErrExist},
	},
	unix.EBUSY: {
		Text: "object in use (EBUSY)",
		Hint: "it is still referenced by a rule, jump, set or flowtable",
	},
	unix.EOPNOTSUPP: {
		Text: "operation not supported (EOPNOTSUPP)",
		Hint: "is the nf_tables module or the expression's module missing, or is the kernel too old?",
	},
	unix.ENOBUFS: {
		Text: "no buffer space (ENOBUFS)",
		Hint: "a netlink buffer overflowed",
	},
}

// wrapExprErr turns a validation error of package expr into one that also
// wraps ErrInvalid.
func wrapExprErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, expr.ErrInvalid) && !errors.Is(err, ErrInvalid) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func kernelErr(err error, op, object string) error {
	return nlconn.WithContext(err, op, object, errnoTable)
}
