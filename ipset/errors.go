package ipset

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// Error is the error the kernel's refusals come back as: operation, object,
// errno, extended-ack text and, in a batch, the index of the operation.
// errors.Is matches the errno, the sentinels below and fs.ErrExist /
// fs.ErrNotExist.
type Error = nlconn.Error

// ErrInvalid marks input rejected before anything was sent; the message
// names the field and the value.
var ErrInvalid = errors.New("ipset: invalid argument")

// Sentinels for the kernel's answers, matched with errors.Is.
var (
	ErrSetExists          = errors.New("set with the same name already exists")
	ErrSetNotFound        = errors.New("set does not exist")
	ErrEntryExists        = errors.New("entry is already in the set")
	ErrEntryMissing       = errors.New("entry is not in the set")
	ErrSetInUse           = errors.New("set is in use by a kernel component (iptables/nftables rule or list:set)")
	ErrTypeUnsupported    = errors.New("set type or revision not supported by the kernel")
	ErrTypeMismatch       = errors.New("sets have different types or families")
	ErrFamilyMismatch     = errors.New("address family does not match the set")
	ErrTimeoutUnsupported = errors.New("set has no timeout support")
	ErrCounterUnsupported = errors.New("set has no counter support")
	ErrCommentUnsupported = errors.New("set has no comment support")
	ErrSkbInfoUnsupported = errors.New("set has no skbinfo support")
	ErrSetFull            = errors.New("set is full")
	ErrProtocol           = errors.New("kernel rejected the ipset message (protocol error)")
)

// invalid builds an ErrInvalid error naming field and value.
func invalid(field string, value any, why string) error {
	return fmt.Errorf("%w: %s %v: %s", ErrInvalid, field, value, why)
}

// opKind selects the errno table: IPSET_ERR_EXIST means "already added"
// for an add and "not added" for a delete, and type-specific errnos depend
// on the kind of set.
type opKind uint8

const (
	opOther opKind = iota
	opAdd
	opDel
)

// errnoTable returns the errno meanings for an operation on a set of the
// given kind (0 when unknown).
func errnoTable(op opKind, k kind) nlconn.ErrnoTable {
	t := nlconn.ErrnoTable{
		unix.ENOENT:      {Text: "set does not exist", Is: []error{ErrSetNotFound}},
		unix.EEXIST:      {Text: "set with the same name already exists", Is: []error{ErrSetExists}},
		errProtocol:      {Text: "kernel error: protocol", Is: []error{ErrProtocol}},
		errFindType:      {Text: "set type not supported", Is: []error{ErrTypeUnsupported}, Hint: "is the ip_set_TYPE module built for this kernel?"},
		errMaxSets:       {Text: "kernel reached the maximum number of sets", Is: []error{ErrSetFull}},
		errBusy:          {Text: "set is in use by a kernel component", Is: []error{ErrSetInUse}},
		errExistSetName2: {Text: "set with the new name already exists", Is: []error{ErrSetExists, fs.ErrExist}},
		errTypeMismatch:  {Text: "the sets have different types", Is: []error{ErrTypeMismatch}},
		errExist:         {Text: "entry already added or not added", Is: nil},
		errInvalidCIDR:   {Text: "invalid CIDR prefix length"},
		errInvalidMask:   {Text: "invalid netmask"},
		errInvalidFamily: {Text: "invalid family", Is: []error{ErrFamilyMismatch}},
		errTimeout:       {Text: "timeout given but the set has no timeout support", Is: []error{ErrTimeoutUnsupported}},
		errReferenced:    {Text: "set is referenced by a list:set", Is: []error{ErrSetInUse}},
		errIPAddrIPv4:    {Text: "IPv4 address expected", Is: []error{ErrFamilyMismatch}},
		errIPAddrIPv6:    {Text: "IPv6 address expected", Is: []error{ErrFamilyMismatch}},
		errCounter:       {Text: "packet/byte counters given but the set has no counter support", Is: []error{ErrCounterUnsupported}},
		errComment:       {Text: "comment given but the set has no comment support", Is: []error{ErrCommentUnsupported}},
		errMarkMask:      {Text: "invalid markmask"},
		errSkbInfo:       {Text: "skbinfo given but the set has no skbinfo support", Is: []error{ErrSkbInfoUnsupported}},
		errBitmaskExcl:   {Text: "netmask and bitmask are mutually exclusive"},
	}
	switch op {
	case opAdd:
		t[errExist] = nlconn.ErrnoInfo{Text: "entry is already in the set", Is: []error{ErrEntryExists, fs.ErrExist}}
	case opDel:
		t[errExist] = nlconn.ErrnoInfo{Text: "entry is not in the set", Is: []error{ErrEntryMissing, fs.ErrNotExist}}
	}
	// ENOENT means a missing set for every command.
	t[unix.ENOENT] = nlconn.ErrnoInfo{Text: "set does not exist", Is: []error{ErrSetNotFound}}
	ts := errTypeSpecific
	switch k {
	case kindHash:
		t[unix.Errno(ts)] = nlconn.ErrnoInfo{Text: "hash is full", Is: []error{ErrSetFull}}
		t[unix.Errno(ts+1)] = nlconn.ErrnoInfo{Text: "null-valued element cannot be stored"}
		t[unix.Errno(ts+2)] = nlconn.ErrnoInfo{Text: "invalid protocol"}
		t[unix.Errno(ts+3)] = nlconn.ErrnoInfo{Text: "protocol missing but must be specified"}
		t[unix.Errno(ts+4)] = nlconn.ErrnoInfo{Text: "range not supported"}
		t[unix.Errno(ts+5)] = nlconn.ErrnoInfo{Text: "invalid range"}
	case kindBitmap:
		t[unix.Errno(ts)] = nlconn.ErrnoInfo{Text: "element is out of the range of the set"}
		t[unix.Errno(ts+1)] = nlconn.ErrnoInfo{Text: "range exceeds the size limit of the set type"}
	case kindList:
		t[unix.Errno(ts)] = nlconn.ErrnoInfo{Text: "member set does not exist", Is: []error{ErrSetNotFound}}
		t[unix.Errno(ts+1)] = nlconn.ErrnoInfo{Text: "list:set cannot be added to a list:set"}
		t[unix.Errno(ts+2)] = nlconn.ErrnoInfo{Text: "missing reference set"}
		t[unix.Errno(ts+3)] = nlconn.ErrnoInfo{Text: "reference set does not exist", Is: []error{ErrSetNotFound}}
		t[unix.Errno(ts+4)] = nlconn.ErrnoInfo{Text: "list is full", Is: []error{ErrSetFull}}
		t[unix.Errno(ts+5)] = nlconn.ErrnoInfo{Text: "reference set is not a member"}
	}
	return t
}

// wrap attaches operation, object and errno table to a kernel error.
func wrap(err error, op string, object string, ok opKind, k kind) error {
	if err == nil {
		return nil
	}
	return nlconn.WithContext(err, op, object, errnoTable(ok, k))
}
