package ipset

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// SetType is the name of a kernel set type, as `ipset create NAME TYPE`
// takes it.
type SetType string

// Every set type the kernel has had. This kernel (6.18) lacks the ones
// marked so; nfkit encodes them all, and the kernel answers
// ErrTypeUnsupported where one is missing.
const (
	BitmapIP       SetType = "bitmap:ip"
	BitmapIPMAC    SetType = "bitmap:ip,mac"
	BitmapPort     SetType = "bitmap:port"
	HashIP         SetType = "hash:ip"
	HashMAC        SetType = "hash:mac"    // not built into every kernel
	HashIPMAC      SetType = "hash:ip,mac" // not built into every kernel
	HashNet        SetType = "hash:net"
	HashNetNet     SetType = "hash:net,net" // not built into every kernel
	HashIPPort     SetType = "hash:ip,port"
	HashNetPort    SetType = "hash:net,port"
	HashIPPortIP   SetType = "hash:ip,port,ip"
	HashIPPortNet  SetType = "hash:ip,port,net"
	HashIPMark     SetType = "hash:ip,mark"      // not built into every kernel
	HashNetPortNet SetType = "hash:net,port,net" // not built into every kernel
	HashNetIface   SetType = "hash:net,iface"
	ListSet        SetType = "list:set"
)

// SetTypes lists every set type nfkit knows, in the order ipset documents
// them.
func SetTypes() []SetType {
	out := make([]SetType, 0, len(typeTable))
	for _, ti := range typeTable {
		out = append(out, ti.name)
	}
	return out
}

func (t SetType) String() string { return string(t) }

// Family is the address family of a set (NFPROTO_*).
type Family uint8

const (
	// FamilyUnspec is for types without addresses (bitmap:port, hash:mac,
	// list:set); for hash types it means "the default", inet.
	FamilyUnspec Family = 0  // NFPROTO_UNSPEC
	FamilyInet   Family = 2  // NFPROTO_IPV4
	FamilyInet6  Family = 10 // NFPROTO_IPV6
)

func (f Family) String() string {
	switch f {
	case FamilyUnspec:
		return "unspec"
	case FamilyInet:
		return "inet"
	case FamilyInet6:
		return "inet6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Set is an ipset: its name, type and create options. Zero fields are left
// to the kernel's defaults. Fields under "Reported by the kernel" are
// filled in by List/Get and ignored by Create.
type Set struct {
	Name   string
	Type   SetType
	Family Family // hash types: FamilyInet (the default) or FamilyInet6

	// Revision is the set type revision; 0 on Create means the highest
	// revision this kernel has (asked with IPSET_CMD_TYPE).
	Revision uint8

	HashSize   uint32 // hash types: initial hash size (power of two)
	MaxElem    uint32 // hash types: maximum number of entries
	BucketSize uint8  // hash types: bucket size, 2..12 (Linux 5.11)
	InitVal    uint32 // hash types: hash seed (0: random)
	NetMask    uint8  // hash:ip, bitmap:ip: store addresses masked to this prefix length
	BitMask    netip.Addr
	MarkMask   uint32 // hash:ip,mark: mask applied to marks (0: 0xffffffff)
	Size       uint32 // list:set: maximum number of member sets

	// RangeFrom/RangeTo bound bitmap:ip and bitmap:ip,mac; PortFrom/PortTo
	// bound bitmap:port.
	RangeFrom, RangeTo netip.Addr
	PortFrom, PortTo   uint16

	// Timeout is the default entry timeout. A set has timeout support
	// when Timeout > 0 or WithTimeout is set ("timeout 0": entries are
	// permanent unless they say otherwise).
	Timeout     time.Duration
	WithTimeout bool

	Counters bool // per-entry packet and byte counters
	Comment  bool // per-entry comments
	SkbInfo  bool // per-entry skbmark/skbprio/skbqueue
	ForceAdd bool // a full set evicts a random entry instead of failing

	// Reported by the kernel.
	Entries    uint32 // number of entries
	References uint32 // references from iptables/nftables rules and list:set
	MemSize    uint32 // kernel memory used, bytes

	// Raw holds create attributes nfkit does not know, re-encoded as is.
	Raw []byte
}

// HasTimeout reports whether the set supports entry timeouts.
func (s *Set) HasTimeout() bool { return s.WithTimeout || s.Timeout > 0 }

// Entry is one member of a set. Which fields apply depends on the set type
// (see the table in doc.go); a field that does not apply is an ErrInvalid
// before anything is sent.
type Entry struct {
	// First address dimension: Addr (a single address, or the first
	// address of the range Addr-AddrTo) or Prefix (a network; for the
	// hash:ip family a CIDR the kernel expands to its addresses).
	Addr   netip.Addr
	AddrTo netip.Addr
	Prefix netip.Prefix

	// Port dimension. Proto is the IP protocol (0 means TCP, as for the
	// ipset CLI); for ICMP and ICMPv6, Port is type<<8|code. PortTo > 0
	// makes the range Port-PortTo.
	Proto  uint8
	Port   uint16
	PortTo uint16

	// Second address dimension (hash:ip,port,ip, hash:ip,port,net,
	// hash:net,net, hash:net,port,net).
	Addr2   netip.Addr
	Addr2To netip.Addr
	Prefix2 netip.Prefix

	MAC     net.HardwareAddr // bitmap:ip,mac, hash:mac, hash:ip,mac
	Iface   string           // hash:net,iface
	Physdev bool             // hash:net,iface: match the bridge port (physdev:IFACE)
	Mark    uint32           // hash:ip,mark

	// list:set: the member set, and where to put it relative to another
	// member (at most one of Before and After).
	Set    string
	Before string
	After  string

	NoMatch bool // net types: an exception inside a matching network

	// Timeout of this entry (0: the set's default). With TimeoutSet, a
	// zero Timeout is sent too, meaning "never expires". On a listing it
	// is the time left.
	Timeout    time.Duration
	TimeoutSet bool

	Packets, Bytes uint64 // counters (sets with Counters)
	Comment        string // sets with Comment

	// skbinfo (sets with SkbInfo): mark/mask, priority (major<<16|minor)
	// and queue. SkbMarkMask 0 with a non-zero SkbMark means 0xffffffff.
	SkbMark, SkbMarkMask uint32
	SkbPrio              uint32
	SkbQueue             uint16

	// Raw holds entry attributes nfkit does not know, re-encoded as is.
	Raw []byte
}

// ICMP protocol numbers for Entry.Proto.
const (
	ProtoICMP    uint8 = 1
	ProtoTCP     uint8 = 6
	ProtoUDP     uint8 = 17
	ProtoICMPv6  uint8 = 58
	ProtoSCTP    uint8 = 132
	ProtoUDPLite uint8 = 136
)

// ICMPPort encodes an ICMP or ICMPv6 type and code as Entry.Port.
func ICMPPort(typ, code uint8) uint16 { return uint16(typ)<<8 | uint16(code) }
