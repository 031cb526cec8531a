package ipset

import "fmt"

// dim is one dimension of a set type's entries.
type dim uint8

const (
	dimIP    dim = iota + 1 // an address; a range or CIDR the kernel expands (IPv4)
	dimNet                  // a network: prefix, or a range the kernel splits (IPv4)
	dimPort                 // proto:port, or a port range
	dimMAC                  // an Ethernet address
	dimIface                // an interface name, optionally physdev
	dimMark                 // a packet mark
	dimIP2                  // a second address
	dimNet2                 // a second network
	dimSet                  // a member set name (list:set)
)

type kind uint8

const (
	kindBitmap kind = iota + 1
	kindHash
	kindList
)

// typeInfo describes what a set type accepts. It is the package's only
// table of set types, and holds no revision numbers: the kernel is asked
// which revisions it has.
type typeInfo struct {
	name     SetType
	kind     kind
	dims     []dim
	family   Family // fixed family for the type; FamilyUnspec for hash types (inet or inet6)
	anyFam   bool   // hash types: inet or inet6
	netmask  bool   // create option netmask
	bitmask  bool   // create option bitmask (Linux 6.1)
	markmask bool   // create option markmask
	macOpt   bool   // bitmap:ip,mac: the MAC may be omitted
}

var typeTable = []typeInfo{
	{name: BitmapIP, kind: kindBitmap, dims: []dim{dimIP}, family: FamilyInet, netmask: true},
	{name: BitmapIPMAC, kind: kindBitmap, dims: []dim{dimIP, dimMAC}, family: FamilyInet, macOpt: true},
	{name: BitmapPort, kind: kindBitmap, dims: []dim{dimPort}, family: FamilyUnspec},
	{name: HashIP, kind: kindHash, dims: []dim{dimIP}, anyFam: true, netmask: true, bitmask: true},
	{name: HashMAC, kind: kindHash, dims: []dim{dimMAC}, family: FamilyUnspec},
	{name: HashIPMAC, kind: kindHash, dims: []dim{dimIP, dimMAC}, anyFam: true},
	{name: HashNet, kind: kindHash, dims: []dim{dimNet}, anyFam: true},
	{name: HashNetNet, kind: kindHash, dims: []dim{dimNet, dimNet2}, anyFam: true, bitmask: true},
	{name: HashIPPort, kind: kindHash, dims: []dim{dimIP, dimPort}, anyFam: true, bitmask: true},
	{name: HashNetPort, kind: kindHash, dims: []dim{dimNet, dimPort}, anyFam: true},
	{name: HashIPPortIP, kind: kindHash, dims: []dim{dimIP, dimPort, dimIP2}, anyFam: true},
	{name: HashIPPortNet, kind: kindHash, dims: []dim{dimIP, dimPort, dimNet2}, anyFam: true},
	{name: HashIPMark, kind: kindHash, dims: []dim{dimIP, dimMark}, anyFam: true, markmask: true},
	{name: HashNetPortNet, kind: kindHash, dims: []dim{dimNet, dimPort, dimNet2}, anyFam: true},
	{name: HashNetIface, kind: kindHash, dims: []dim{dimNet, dimIface}, anyFam: true},
	{name: ListSet, kind: kindList, dims: []dim{dimSet}, family: FamilyUnspec},
}

func lookupType(t SetType) (*typeInfo, bool) {
	for i := range typeTable {
		if typeTable[i].name == t {
			return &typeTable[i], true
		}
	}
	return nil, false
}

func (ti *typeInfo) has(d dim) bool {
	for _, x := range ti.dims {
		if x == d {
			return true
		}
	}
	return false
}

// effectiveFamily is the family a set of this type really has: hash types
// default to inet, the others have a fixed family.
func (ti *typeInfo) effectiveFamily(f Family) Family {
	if ti.anyFam {
		if f == FamilyUnspec {
			return FamilyInet
		}
		return f
	}
	return ti.family
}

// hasNoMatch reports whether entries may be nomatch exceptions (types with
// a network dimension).
func (ti *typeInfo) hasNoMatch() bool { return ti.has(dimNet) || ti.has(dimNet2) }

func (ti *typeInfo) validFamily(f Family) error {
	if ti.anyFam {
		if f != FamilyUnspec && f != FamilyInet && f != FamilyInet6 {
			return invalid("Family", f, "must be inet or inet6 for "+string(ti.name))
		}
		return nil
	}
	if f != FamilyUnspec && f != ti.family {
		return invalid("Family", f, fmt.Sprintf("%s sets have family %s", ti.name, ti.family))
	}
	return nil
}

// defaultProto is the protocol sent for an entry without one: TCP for hash
// types with a port dimension, as the ipset CLI assumes.
func (ti *typeInfo) defaultProto() uint8 {
	if ti.kind == kindHash && ti.has(dimPort) {
		return ProtoTCP
	}
	return 0
}
