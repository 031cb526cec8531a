package ipset

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"unsafe"

	"github.com/mdlayher/socket"
	"golang.org/x/sys/unix"
)

// The kernel's xt set match and SET target (iptables -m set, -j SET)
// carry a set's index, not its name. iptables maps one to the other with
// getsockopt(SOL_IP, SO_IP_SET) on an AF_INET socket, the interface of
// linux/netfilter/ipset/ip_set.h: IP_SET_OP_VERSION first, then
// IP_SET_OP_GET_BYNAME or IP_SET_OP_GET_BYINDEX, each carrying the
// protocol version the kernel announced. There is no netlink command for
// it.
const (
	soIPSet        = 83    // SO_IP_SET
	opGetByName    = 6     // IP_SET_OP_GET_BYNAME
	opGetByIndex   = 7     // IP_SET_OP_GET_BYINDEX
	opVersion      = 0x100 // IP_SET_OP_VERSION
	invalidSetID   = 0xffff
	sockoptVersion = 8 // sizeof(struct ip_set_req_version)
)

// setReq is struct ip_set_req_get_set: op, version, then the union of a
// name and an index (ip_set_id_t, host order).
type setReq struct {
	Op, Version uint32
	Set         [maxNameLen]byte
}

// Index returns the kernel index of the set called name, the number an
// iptables `-m set --match-set NAME` or `-j SET --add-set NAME` rule
// stores in place of the name. A missing set is an error matching
// ErrSetNotFound and fs.ErrNotExist.
//
// Like iptables' libxt_set, it asks through getsockopt(SO_IP_SET) on a
// short-lived AF_INET raw socket opened in the Conn's network namespace
// (needs CAP_NET_ADMIN there); no thread switches namespaces: the socket
// is created on a dedicated, discarded thread.
func (c *Conn) Index(ctx context.Context, name string) (uint16, error) {
	if err := validateName("name", name); err != nil {
		return 0, err
	}
	req := setReq{Op: opGetByName}
	copy(req.Set[:], name)
	if err := c.setSockopt(ctx, &req); err != nil {
		return 0, fmt.Errorf("ipset: index of %s: %w", name, err)
	}
	idx := binary.NativeEndian.Uint16(req.Set[:2])
	if idx == invalidSetID {
		return 0, fmt.Errorf("ipset: index of %s: %w (%w)", name, ErrSetNotFound, fs.ErrNotExist)
	}
	return idx, nil
}

// NameByIndex returns the name of the set with kernel index idx, as
// iptables-save does to print a set match. No set at that index is an
// error matching ErrSetNotFound and fs.ErrNotExist.
func (c *Conn) NameByIndex(ctx context.Context, idx uint16) (string, error) {
	if idx == invalidSetID {
		return "", invalid("index", idx, "IPSET_INVALID_ID")
	}
	req := setReq{Op: opGetByIndex}
	binary.NativeEndian.PutUint16(req.Set[:2], idx)
	err := c.setSockopt(ctx, &req)
	if err == unix.EINVAL {
		// The kernel answers EINVAL for an index past its ip_set_max.
		return "", fmt.Errorf("ipset: set with index %d: %w (%w)", idx, ErrSetNotFound, fs.ErrNotExist)
	}
	if err != nil {
		return "", fmt.Errorf("ipset: set with index %d: %w", idx, err)
	}
	n := 0
	for n < len(req.Set) && req.Set[n] != 0 {
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("ipset: set with index %d: %w (%w)", idx, ErrSetNotFound, fs.ErrNotExist)
	}
	return string(req.Set[:n]), nil
}

// setSockopt asks the kernel's protocol version (IP_SET_OP_VERSION) and
// then runs req with it, on one socket in the Conn's namespace.
func (c *Conn) setSockopt(ctx context.Context, req *setReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ns, err := c.nl.NetNS()
	if err != nil {
		return fmt.Errorf("namespace of the ipset socket: %w", err)
	}
	defer unix.Close(ns)
	s, err := socket.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW, "ipset", &socket.Config{NetNS: ns})
	if err != nil {
		return err
	}
	defer s.Close()
	rc, err := s.SyscallConn()
	if err != nil {
		return err
	}
	ver := struct{ Op, Version uint32 }{Op: opVersion}
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		if serr = getsockopt(fd, unsafe.Pointer(&ver), sockoptVersion); serr != nil {
			return
		}
		req.Version = ver.Version
		serr = getsockopt(fd, unsafe.Pointer(req), uint32(unsafe.Sizeof(*req)))
	})
	if cerr != nil {
		return cerr
	}
	if serr == unix.ENOPROTOOPT {
		return fmt.Errorf("%w (is the ip_set module loaded?)", serr)
	}
	return serr
}

// getsockopt is getsockopt(fd, SOL_IP, SO_IP_SET, p, &size): the request
// struct goes in and the answer comes back in the same buffer, which the
// unix package's typed getters cannot express.
func getsockopt(fd uintptr, p unsafe.Pointer, size uint32) error {
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_IP, soIPSet,
		uintptr(p), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
