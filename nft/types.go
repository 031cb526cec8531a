package nft

import (
	"fmt"
	"strconv"
)

// Family is an nf_tables address family (the nfgenmsg family of every
// message). Its String is the keyword nft uses.
type Family uint8

// The families nf_tables knows. The values are the kernel's NFPROTO_*.
const (
	FamilyUnspec Family = 0  // NFPROTO_UNSPEC: "all families" in dumps
	FamilyINet   Family = 1  // NFPROTO_INET: inet
	FamilyIPv4   Family = 2  // NFPROTO_IPV4: ip
	FamilyARP    Family = 3  // NFPROTO_ARP: arp
	FamilyNetdev Family = 5  // NFPROTO_NETDEV: netdev
	FamilyBridge Family = 7  // NFPROTO_BRIDGE: bridge
	FamilyIPv6   Family = 10 // NFPROTO_IPV6: ip6
)

func (f Family) String() string {
	switch f {
	case FamilyUnspec:
		return "unspec"
	case FamilyINet:
		return "inet"
	case FamilyIPv4:
		return "ip"
	case FamilyARP:
		return "arp"
	case FamilyNetdev:
		return "netdev"
	case FamilyBridge:
		return "bridge"
	case FamilyIPv6:
		return "ip6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// valid reports whether f names a table family (not unspec).
func (f Family) valid() bool {
	switch f {
	case FamilyINet, FamilyIPv4, FamilyARP, FamilyNetdev, FamilyBridge, FamilyIPv6:
		return true
	}
	return false
}

// ParseFamily parses nft's family keyword ("ip", "ip6", "inet", "arp",
// "bridge", "netdev").
func ParseFamily(s string) (Family, error) {
	for _, f := range []Family{FamilyIPv4, FamilyIPv6, FamilyINet, FamilyARP, FamilyBridge, FamilyNetdev} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: family %q", ErrInvalid, s)
}

// ChainType is the type of a base chain.
type ChainType string

// Base chain types.
const (
	ChainTypeFilter ChainType = "filter"
	ChainTypeNAT    ChainType = "nat"
	ChainTypeRoute  ChainType = "route"
)

// Hook is where a base chain attaches. The values are nfkit's own and are
// translated to the family's hook numbers on the wire (netdev and arp number
// their hooks differently from ip/ip6/inet/bridge); the zero value means
// "no hook": a regular chain.
type Hook uint8

// Hooks. Ingress is netdev's ingress or inet's ingress (Linux 5.10);
// Egress is netdev's egress (Linux 5.16).
const (
	HookNone Hook = iota
	HookPrerouting
	HookInput
	HookForward
	HookOutput
	HookPostrouting
	HookIngress
	HookEgress
)

func (h Hook) String() string {
	switch h {
	case HookNone:
		return "none"
	case HookPrerouting:
		return "prerouting"
	case HookInput:
		return "input"
	case HookForward:
		return "forward"
	case HookOutput:
		return "output"
	case HookPostrouting:
		return "postrouting"
	case HookIngress:
		return "ingress"
	case HookEgress:
		return "egress"
	}
	return "hook(" + strconv.Itoa(int(h)) + ")"
}

// hookNum returns the kernel hook number of h in family f.
func hookNum(f Family, h Hook) (uint32, bool) {
	switch f {
	case FamilyNetdev:
		switch h {
		case HookIngress:
			return 0, true // NF_NETDEV_INGRESS
		case HookEgress:
			return 1, true // NF_NETDEV_EGRESS
		}
		return 0, false
	case FamilyARP:
		switch h {
		case HookInput:
			return 0, true // NF_ARP_IN
		case HookOutput:
			return 1, true // NF_ARP_OUT
		case HookForward:
			return 2, true // NF_ARP_FORWARD
		}
		return 0, false
	}
	switch h {
	case HookPrerouting, HookInput, HookForward, HookOutput, HookPostrouting:
		return uint32(h - 1), true // NF_INET_PRE_ROUTING..NF_INET_POST_ROUTING
	case HookIngress:
		if f == FamilyINet {
			return 5, true // NF_INET_INGRESS
		}
	}
	return 0, false
}

// hookFromNum is the inverse of hookNum; unknown numbers map to a value past
// the known hooks so they still round-trip.
func hookFromNum(f Family, n uint32) Hook {
	for h := HookPrerouting; h <= HookEgress; h++ {
		if m, ok := hookNum(f, h); ok && m == n {
			return h
		}
	}
	return Hook(0x80 | n&0x7f)
}

// Policy is a base chain's default verdict.
type Policy uint8

// Policies. PolicyDefault leaves the kernel default (accept).
const (
	PolicyDefault Policy = iota
	PolicyAccept
	PolicyDrop
)

func (p Policy) String() string {
	switch p {
	case PolicyDefault:
		return "default"
	case PolicyAccept:
		return "accept"
	case PolicyDrop:
		return "drop"
	}
	return "policy(" + strconv.Itoa(int(p)) + ")"
}

// TableFlags are NFT_TABLE_F_* flags.
type TableFlags uint32

// Table flags.
const (
	TableDormant TableFlags = 1 << 0 // NFT_TABLE_F_DORMANT: hooks unregistered
	TableOwner   TableFlags = 1 << 1 // NFT_TABLE_F_OWNER: removed when the creating socket closes (Linux 5.12)
	TablePersist TableFlags = 1 << 2 // NFT_TABLE_F_PERSIST: owner may leave, table stays (Linux 6.9)
)

func (f TableFlags) String() string {
	s := ""
	for _, x := range []struct {
		f TableFlags
		n string
	}{{TableDormant, "dormant"}, {TableOwner, "owner"}, {TablePersist, "persist"}} {
		if f&x.f != 0 {
			if s != "" {
				s += ","
			}
			s += x.n
			f &^= x.f
		}
	}
	if f != 0 {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("0x%x", uint32(f))
	}
	return s
}

// ChainFlags are NFT_CHAIN_* flags.
type ChainFlags uint32

// Chain flags.
const (
	ChainBase      ChainFlags = 1 << 0 // NFT_CHAIN_BASE (set by the kernel)
	ChainHWOffload ChainFlags = 1 << 1 // NFT_CHAIN_HW_OFFLOAD
	ChainBinding   ChainFlags = 1 << 2 // NFT_CHAIN_BINDING
)

// Counters are packet and byte counts.
type Counters struct {
	Packets uint64
	Bytes   uint64
}
