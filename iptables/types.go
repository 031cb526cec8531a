package iptables

import (
	"net/netip"
	"strconv"
)

// Family selects iptables (IPv4) or ip6tables (IPv6).
type Family uint8

// Families; the values are the kernel's NFPROTO_*.
const (
	IPv4 Family = 2
	IPv6 Family = 10
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ip"
	case IPv6:
		return "ip6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

func (f Family) valid() bool { return f == IPv4 || f == IPv6 }

func (f Family) addrLen() int {
	if f == IPv6 {
		return 16
	}
	return 4
}

// Addr is the -s / -d part of a rule: an address and a mask (contiguous
// masks print as /LEN, others, IPv4 only, as /MASK), optionally inverted.
// The zero Addr matches everything.
type Addr struct {
	Addr   netip.Addr
	Mask   netip.Addr
	Invert bool
}

// IsZero reports whether a matches every address.
func (a Addr) IsZero() bool { return !a.Addr.IsValid() }

// PrefixAddr returns the Addr matching p.
func PrefixAddr(p netip.Prefix) Addr {
	p = p.Masked()
	return Addr{Addr: p.Addr(), Mask: maskFromBits(p.Addr().BitLen(), p.Bits())}
}

func maskFromBits(total, bits int) netip.Addr {
	b := make([]byte, total/8)
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// maskBits returns the prefix length of m, or -1 if m is not contiguous.
func maskBits(m netip.Addr) int {
	b := m.AsSlice()
	n := 0
	seenZero := false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return -1
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n
}

// Iface is the -i / -o part of a rule. A Name ending in "+" matches every
// interface with that prefix.
type Iface struct {
	Name   string
	Invert bool
}

// Counters are packet and byte counts.
type Counters struct {
	Packets uint64
	Bytes   uint64
}

// Rule is one iptables rule: the fields of `iptables -A CHAIN ...`.
type Rule struct {
	// Family is set by ParseRule and listing; String prints for it.
	Family Family
	Table  string // filter, nat, mangle, raw, security; "" means filter
	Chain  string

	// Protocol is the -p protocol number; 0 with ProtoInvert false means any.
	Protocol    uint8
	ProtoInvert bool

	Src, Dst Addr
	In, Out  Iface

	// Fragment is 1 for -f, -1 for ! -f, 0 when not given (IPv4 only).
	Fragment int8

	// Matches in the order they were given.
	Matches []Match
	// Target; nil means no target (the rule only counts).
	Target Target

	// Counters set with -c on insertion, read back on listing.
	Counters Counters

	// Handle is the nf_tables rule handle, set by listing (0 otherwise).
	Handle uint64

	// Foreign is set, by listing only, for a rule iptables-nft would not
	// have written (see ForeignRule). The other fields then carry only
	// Family, Table, Chain and Handle: such a rule is never shown as an
	// iptables rule, and writing it back (Append, Restore, ...) is
	// refused with ErrInvalid.
	Foreign *ForeignRule
}

func (r *Rule) table() string {
	if r.Table == "" {
		return "filter"
	}
	return r.Table
}
