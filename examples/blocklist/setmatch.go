package main

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/iptables"
)

// setMatch builds `-m set --match-set NAME src` for the iptables package,
// which has no typed set match yet: an xt "set" match, revision 1, whose
// info (struct xt_set_info_match_v1) holds the set's kernel index, the
// dimension count and the src/dst flags.
func setMatch(index uint16) iptables.Match {
	info := make([]byte, 8) // XT_ALIGN(sizeof(struct xt_set_info_match_v1))
	binary.NativeEndian.PutUint16(info[0:], index)
	info[2] = 1      // dim: one dimension
	info[3] = 1 << 1 // flags: IPSET_DIM_ONE_SRC ("src"); bit 0 would be IPSET_INV_MATCH ("!")
	return &iptables.Extension{ExtName: "set", Rev: 1, Info: info}
}

// setIndex asks the kernel for a set's index the way iptables' set match
// does, with getsockopt(SO_IP_SET, IP_SET_OP_GET_BYNAME) on a raw socket
// inside the namespace. The ipset package does not offer it yet.
func setIndex(ns *nstest.NS, name string) (uint16, error) {
	const (
		soIPSet        = 83 // SO_IP_SET
		opGetByName    = 6  // IP_SET_OP_GET_BYNAME
		protocolMinVer = 6  // IPSET_PROTOCOL_MIN
	)
	var req struct {
		Op, Version uint32
		Name        [32]byte // union ip_set_name_index: the index comes back here
	}
	if len(name) >= len(req.Name) {
		return 0, fmt.Errorf("set name %q too long", name)
	}
	req.Op, req.Version = opGetByName, protocolMinVer
	copy(req.Name[:], name)
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		size := uint32(unsafe.Sizeof(req))
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_IP, soIPSet,
			uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			return errno
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("getsockopt SO_IP_SET %s: %w", name, err)
	}
	idx := binary.NativeEndian.Uint16(req.Name[:2])
	if idx == 0xffff { // IPSET_INVALID_ID
		return 0, fmt.Errorf("ipset %s does not exist", name)
	}
	return idx, nil
}
