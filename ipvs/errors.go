package ipvs

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/nfkit/nfkit/internal/nlconn"
	"golang.org/x/sys/unix"
)

// ErrInvalid wraps every error about bad input, found before anything is
// sent to the kernel. The message names the field and the value.
var ErrInvalid = errors.New("ipvs: invalid argument")

// ErrNotSupported reports that the kernel has no IPVS: the generic netlink
// family "IPVS" does not exist, because the ip_vs module is not loaded (or
// not built). It is never reported as success.
var ErrNotSupported = errors.New("ipvs: IPVS is not available in this kernel (is the ip_vs module loaded? modprobe ip_vs)")

// Error is the error type of every kernel failure: the operation, the
// object, the errno, and for batches the index of the operation. It is the
// shared nlconn error, so errors.Is(err, fs.ErrNotExist) and
// errors.Is(err, unix.EEXIST) work.
type Error = nlconn.Error

// errnoTable gives IPVS's errnos their meaning here: IPVS answers ESRCH for
// a missing service (fs.ErrNotExist), ENOENT for a missing scheduler or
// destination, EEXIST for a duplicate.
var errnoTable = nlconn.ErrnoTable{
	unix.ESRCH: {Text: "no such service", Is: []error{fs.ErrNotExist}},
	unix.ENOENT: {Text: "no such destination, scheduler or persistence engine", Is: []error{fs.ErrNotExist},
		Hint: "is the ip_vs_<scheduler> module available?"},
	unix.EEXIST:  {Text: "already exists", Is: []error{fs.ErrExist}},
	unix.EBUSY:   {Text: "busy (sync daemon already running?)"},
	unix.ENOTSUP: {Text: "not supported by this kernel's IPVS"},
}

func invalid(field string, value any, why string) error {
	return fmt.Errorf("%w: %s %v: %s", ErrInvalid, field, value, why)
}

func wrap(err error, op, object string) error {
	if err == nil {
		return nil
	}
	return nlconn.WithContext(err, op, object, errnoTable)
}

// errNoService matches the kernel's answer for a missing service.
var errNoService = unix.ESRCH
