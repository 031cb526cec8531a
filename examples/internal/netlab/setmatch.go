package netlab

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/iptables"
)

// The iptables package has no typed `-m set` match yet, and the ipset
// package cannot yet map a set name to the kernel index an xt set match
// carries. These helpers fill both gaps for the examples, the way
// iptables' libxt_set does it.

// xt set match revision 4 (struct xt_set_info_match_v4), what iptables-nft
// 1.8.9 writes for `-m set --match-set` on kernels that have it (3.19+):
//
//	struct xt_set_info { u16 index; u8 dim; u8 flags; }     offset 0
//	struct ip_set_counter_match packets { u64 value; u8 op } offset 8
//	struct ip_set_counter_match bytes                         offset 24
//	u32 flags                                                 offset 40
//
// 44 bytes, XT_ALIGNed to 48.
const (
	setMatchRev     = 4
	setMatchInfoLen = 48
	ipsetInvMatch   = 1 << 0 // IPSET_INV_MATCH
	ipsetDimMax     = 6      // IPSET_DIM_MAX
)

// SetMatch builds `-m set [!] --match-set NAME DIRS` for a set of the
// given kernel index (see SetIndex). dirs are "src" or "dst" per
// dimension, as in kube-proxy's `--match-set KUBE-LOOP-BACK dst,dst,src`.
func SetMatch(index uint16, invert bool, dirs ...string) (iptables.Match, error) {
	if len(dirs) == 0 || len(dirs) > ipsetDimMax {
		return nil, fmt.Errorf("netlab: set match needs 1 to %d directions, got %d", ipsetDimMax, len(dirs))
	}
	info := make([]byte, setMatchInfoLen)
	binary.NativeEndian.PutUint16(info[0:], index)
	info[2] = uint8(len(dirs))
	var flags uint8
	if invert {
		flags |= ipsetInvMatch
	}
	for i, d := range dirs {
		switch d {
		case "src":
			flags |= 1 << (i + 1) // IPSET_DIM_ONE_SRC, _TWO_SRC, ...
		case "dst":
		default:
			return nil, fmt.Errorf("netlab: set match direction %q (want src or dst)", d)
		}
	}
	info[3] = flags
	return &iptables.Extension{ExtName: "set", Rev: setMatchRev, Info: info}, nil
}

// SetMatchText prints a set match read back from the kernel the way
// iptables-save does (`-m set --match-set NAME dst,dst,src`), resolving
// the index to the set's name inside ns. ok is false when m is not a
// revision-4 set match.
func SetMatchText(ns *nstest.NS, m iptables.Match) (text string, ok bool) {
	if s, typed := m.(*iptables.Set); typed {
		// The iptables package reads set matches typed, names resolved.
		var dirs []string
		for _, d := range s.Ref.Dirs {
			dirs = append(dirs, d.String())
		}
		inv := ""
		if s.Invert {
			inv = "! "
		}
		return fmt.Sprintf("-m set %s--match-set %s %s", inv, s.Ref.Name, strings.Join(dirs, ",")), true
	}
	e, isExt := m.(*iptables.Extension)
	if !isExt || e.ExtName != "set" || e.Rev != setMatchRev || len(e.Info) < 4 {
		return "", false
	}
	index := binary.NativeEndian.Uint16(e.Info[0:])
	dim, flags := int(e.Info[2]), e.Info[3]
	name, err := SetName(ns, index)
	if err != nil {
		name = fmt.Sprintf("#%d(%v)", index, err)
	}
	var dirs []string
	for i := 1; i <= dim; i++ {
		if flags&(1<<i) != 0 {
			dirs = append(dirs, "src")
		} else {
			dirs = append(dirs, "dst")
		}
	}
	inv := ""
	if flags&ipsetInvMatch != 0 {
		inv = "! "
	}
	return fmt.Sprintf("-m set %s--match-set %s %s", inv, name, strings.Join(dirs, ",")), true
}

// The getsockopt(SO_IP_SET) interface iptables uses to find sets.
const (
	soIPSet         = 83 // SO_IP_SET
	opGetByName     = 6  // IP_SET_OP_GET_BYNAME
	opGetByIndex    = 7  // IP_SET_OP_GET_BYINDEX
	ipsetProtoMin   = 6  // IPSET_PROTOCOL_MIN
	ipsetInvalidID  = 0xffff
	ipsetMaxNameLen = 32 // IPSET_MAXNAMELEN
)

// ipsetReq is struct ip_set_req_get_set / ip_set_req_get_set_family's
// common prefix: op, version, then a union of the name and the index.
type ipsetReq struct {
	Op, Version uint32
	Name        [ipsetMaxNameLen]byte
}

func ipsetSockopt(ns *nstest.NS, req *ipsetReq) error {
	return ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		size := uint32(unsafe.Sizeof(*req))
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_IP, soIPSet,
			uintptr(unsafe.Pointer(req)), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			return errno
		}
		return nil
	})
}

// SetIndex asks the kernel for the index of the ipset name inside ns, as
// iptables' set match does before it builds the rule.
func SetIndex(ns *nstest.NS, name string) (uint16, error) {
	if name == "" || len(name) >= ipsetMaxNameLen {
		return 0, fmt.Errorf("netlab: set name %q: 1 to %d characters", name, ipsetMaxNameLen-1)
	}
	req := ipsetReq{Op: opGetByName, Version: ipsetProtoMin}
	copy(req.Name[:], name)
	if err := ipsetSockopt(ns, &req); err != nil {
		return 0, fmt.Errorf("getsockopt SO_IP_SET %s: %w", name, err)
	}
	idx := binary.NativeEndian.Uint16(req.Name[:2])
	if idx == ipsetInvalidID {
		return 0, fmt.Errorf("ipset %s does not exist in %s", name, ns.Name)
	}
	return idx, nil
}

// SetName is the reverse of SetIndex (IP_SET_OP_GET_BYINDEX).
func SetName(ns *nstest.NS, index uint16) (string, error) {
	req := ipsetReq{Op: opGetByIndex, Version: ipsetProtoMin}
	binary.NativeEndian.PutUint16(req.Name[:2], index)
	if err := ipsetSockopt(ns, &req); err != nil {
		return "", fmt.Errorf("getsockopt SO_IP_SET index %d: %w", index, err)
	}
	name, _, _ := strings.Cut(string(req.Name[:]), "\x00")
	if name == "" {
		return "", fmt.Errorf("no ipset with index %d in %s", index, ns.Name)
	}
	return name, nil
}
