package ipset

import (
	"net/netip"
	"strings"
)

func validateName(field, name string) error {
	if name == "" {
		return invalid(field, `""`, "set name is empty")
	}
	if len(name) >= maxNameLen {
		return invalid(field, name, "set name is longer than 31 bytes")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return invalid(field, name, "set name contains a NUL byte")
	}
	return nil
}

// validate checks a set before Create.
func (s *Set) validate() (*typeInfo, error) {
	if err := validateName("Name", s.Name); err != nil {
		return nil, err
	}
	ti, ok := lookupType(s.Type)
	if !ok {
		return nil, invalid("Type", s.Type, "unknown set type")
	}
	if err := ti.validFamily(s.Family); err != nil {
		return nil, err
	}
	fam := ti.effectiveFamily(s.Family)
	isHash := ti.kind == kindHash
	if !isHash {
		for _, f := range []struct {
			name string
			set  bool
		}{{"HashSize", s.HashSize != 0}, {"MaxElem", s.MaxElem != 0}, {"BucketSize", s.BucketSize != 0}, {"InitVal", s.InitVal != 0}} {
			if f.set {
				return nil, invalid(f.name, "", "only hash sets have it, not "+string(s.Type))
			}
		}
	} else {
		if s.HashSize != 0 && s.HashSize&(s.HashSize-1) != 0 {
			return nil, invalid("HashSize", s.HashSize, "must be a power of two")
		}
		if s.BucketSize != 0 && (s.BucketSize < 2 || s.BucketSize > 12) {
			return nil, invalid("BucketSize", s.BucketSize, "must be 2..12")
		}
	}
	if s.NetMask != 0 {
		if !ti.netmask {
			return nil, invalid("NetMask", s.NetMask, string(s.Type)+" has no netmask option")
		}
		if (fam == FamilyInet && s.NetMask > 32) || s.NetMask > 128 {
			return nil, invalid("NetMask", s.NetMask, "prefix length out of range for "+fam.String())
		}
	}
	if s.BitMask.IsValid() {
		if !ti.bitmask {
			return nil, invalid("BitMask", s.BitMask, string(s.Type)+" has no bitmask option")
		}
		if s.NetMask != 0 {
			return nil, invalid("BitMask", s.BitMask, "netmask and bitmask are mutually exclusive")
		}
		if err := checkFamily("BitMask", s.BitMask, fam); err != nil {
			return nil, err
		}
	}
	if s.MarkMask != 0 && !ti.markmask {
		return nil, invalid("MarkMask", s.MarkMask, string(s.Type)+" has no markmask option")
	}
	if s.Size != 0 && ti.kind != kindList {
		return nil, invalid("Size", s.Size, "only list:set has a size")
	}
	switch s.Type {
	case BitmapIP, BitmapIPMAC:
		if !s.RangeFrom.IsValid() || !s.RangeTo.IsValid() {
			return nil, invalid("RangeFrom/RangeTo", s.RangeFrom.String()+"-"+s.RangeTo.String(), string(s.Type)+" needs a range")
		}
		if err := checkFamily("RangeFrom", s.RangeFrom, FamilyInet); err != nil {
			return nil, err
		}
		if err := checkFamily("RangeTo", s.RangeTo, FamilyInet); err != nil {
			return nil, err
		}
		if s.RangeTo.Less(s.RangeFrom) {
			return nil, invalid("RangeTo", s.RangeTo, "is before RangeFrom "+s.RangeFrom.String())
		}
	case BitmapPort:
		if s.PortTo < s.PortFrom {
			return nil, invalid("PortTo", s.PortTo, "is below PortFrom")
		}
		if s.PortTo == 0 {
			return nil, invalid("PortFrom/PortTo", s.PortTo, "bitmap:port needs a port range")
		}
	default:
		if s.RangeFrom.IsValid() || s.RangeTo.IsValid() {
			return nil, invalid("RangeFrom", s.RangeFrom, "only bitmap:ip and bitmap:ip,mac have a range")
		}
		if s.PortFrom != 0 || s.PortTo != 0 {
			return nil, invalid("PortFrom", s.PortFrom, "only bitmap:port has a port range")
		}
	}
	if s.Timeout < 0 {
		return nil, invalid("Timeout", s.Timeout, "negative")
	}
	return ti, nil
}

func checkFamily(field string, a netip.Addr, f Family) error {
	if a.Zone() != "" {
		return invalid(field, a, "addresses in sets have no zone")
	}
	switch f {
	case FamilyInet:
		if !a.Is4() {
			return invalid(field, a, "IPv6 address in an inet set")
		}
	case FamilyInet6:
		if !a.Is6() {
			return invalid(field, a, "IPv4 address in an inet6 set")
		}
	}
	return nil
}

// validateEntry checks an entry against its set's type and family, so that
// nothing is sent for an entry the kernel would refuse for its shape.
func validateEntry(ti *typeInfo, fam Family, s *Set, e *Entry) error {
	has := ti.has
	fam = ti.effectiveFamily(fam)
	type field struct {
		name string
		set  bool
		ok   bool
	}
	first := has(dimIP) || has(dimNet)
	second := has(dimIP2) || has(dimNet2)
	for _, f := range []field{
		{"Addr", e.Addr.IsValid(), first},
		{"AddrTo", e.AddrTo.IsValid(), first},
		{"Prefix", e.Prefix.IsValid(), first},
		{"Port", e.Port != 0, has(dimPort)},
		{"PortTo", e.PortTo != 0, has(dimPort)},
		{"Proto", e.Proto != 0, has(dimPort) && ti.kind == kindHash},
		{"Addr2", e.Addr2.IsValid(), second},
		{"Addr2To", e.Addr2To.IsValid(), second},
		{"Prefix2", e.Prefix2.IsValid(), second},
		{"MAC", len(e.MAC) > 0, has(dimMAC)},
		{"Iface", e.Iface != "", has(dimIface)},
		{"Physdev", e.Physdev, has(dimIface)},
		{"Mark", e.Mark != 0, has(dimMark)},
		{"Set", e.Set != "", has(dimSet)},
		{"Before", e.Before != "", has(dimSet)},
		{"After", e.After != "", has(dimSet)},
		{"NoMatch", e.NoMatch, ti.hasNoMatch()},
	} {
		if f.set && !f.ok {
			return invalid(f.name, "", "does not apply to "+string(ti.name)+" entries")
		}
	}
	if first {
		if err := validateAddrDim("", e.Addr, e.AddrTo, e.Prefix, fam, has(dimNet)); err != nil {
			return err
		}
	}
	if has(dimIP2) {
		if e.Prefix2.IsValid() || e.Addr2To.IsValid() {
			return invalid("Prefix2/Addr2To", e.Prefix2, string(ti.name)+" takes a single second address")
		}
	}
	if second {
		if err := validateAddrDim("2", e.Addr2, e.Addr2To, e.Prefix2, fam, has(dimNet2)); err != nil {
			return err
		}
	}
	if has(dimPort) {
		if e.PortTo != 0 && e.PortTo < e.Port {
			return invalid("PortTo", e.PortTo, "is below Port "+itoa(int(e.Port)))
		}
		if ti.name == BitmapPort && s != nil && s.PortTo != 0 {
			if e.Port < s.PortFrom || e.Port > s.PortTo || (e.PortTo != 0 && e.PortTo > s.PortTo) {
				return invalid("Port", e.Port, "outside the set's range")
			}
		}
		if (e.Proto == ProtoICMP || e.Proto == ProtoICMPv6) && e.PortTo != 0 && e.PortTo>>8 != e.Port>>8 {
			return invalid("PortTo", e.PortTo, "ICMP ranges must stay within one type")
		}
	}
	if has(dimMAC) && !ti.macOpt && len(e.MAC) == 0 {
		return invalid("MAC", "", string(ti.name)+" entries need a MAC address")
	}
	if len(e.MAC) > 0 && len(e.MAC) != 6 {
		return invalid("MAC", e.MAC, "must be 6 bytes")
	}
	if has(dimIface) {
		if e.Iface == "" || len(e.Iface) >= 16 {
			return invalid("Iface", e.Iface, "interface name must be 1..15 bytes")
		}
	}
	if has(dimSet) {
		if err := validateName("Set", e.Set); err != nil {
			return err
		}
		if e.Before != "" && e.After != "" {
			return invalid("Before", e.Before, "Before and After are exclusive")
		}
		for _, r := range []struct{ n, v string }{{"Before", e.Before}, {"After", e.After}} {
			if r.v != "" {
				if err := validateName(r.n, r.v); err != nil {
					return err
				}
			}
		}
	}
	if e.SkbMark != 0 && e.SkbMarkMask == 0 {
		return invalid("SkbMarkMask", 0, "mask 0 changes no mark bits; use 0xffffffff for the whole mark")
	}
	if strings.IndexByte(e.Comment, '"') >= 0 {
		return invalid("Comment", e.Comment, "contains a double quote, which the save format cannot carry")
	}
	if len(e.Comment) > maxCommentLen {
		return invalid("Comment", len(e.Comment), "comment longer than 255 bytes")
	}
	if strings.IndexByte(e.Comment, 0) >= 0 {
		return invalid("Comment", e.Comment, "contains a NUL byte")
	}
	if e.Timeout < 0 {
		return invalid("Timeout", e.Timeout, "negative")
	}
	if s != nil {
		if (e.TimeoutSet || e.Timeout > 0) && !s.HasTimeout() {
			return invalid("Timeout", e.Timeout, "set "+s.Name+" has no timeout support")
		}
		if (e.Packets != 0 || e.Bytes != 0) && !s.Counters {
			return invalid("Packets/Bytes", e.Packets, "set "+s.Name+" has no counters")
		}
		if e.Comment != "" && !s.Comment {
			return invalid("Comment", e.Comment, "set "+s.Name+" has no comment support")
		}
		if (e.SkbMark != 0 || e.SkbMarkMask != 0 || e.SkbPrio != 0 || e.SkbQueue != 0) && !s.SkbInfo {
			return invalid("SkbMark/SkbPrio/SkbQueue", "", "set "+s.Name+" has no skbinfo support")
		}
	}
	return nil
}

func validateAddrDim(suffix string, a, to netip.Addr, p netip.Prefix, fam Family, isNet bool) error {
	fa, ft, fp := "Addr"+suffix, "Addr"+suffix+"To", "Prefix"+suffix
	switch {
	case a.IsValid() && p.IsValid():
		return invalid(fp, p, "give "+fa+" or "+fp+", not both")
	case !a.IsValid() && !p.IsValid():
		return invalid(fa, "", "an address or prefix is required")
	case p.IsValid() && to.IsValid():
		return invalid(ft, to, "give a range or a prefix, not both")
	}
	if a.IsValid() {
		if err := checkFamily(fa, a, fam); err != nil {
			return err
		}
	}
	if p.IsValid() {
		if err := checkFamily(fp, p.Addr(), fam); err != nil {
			return err
		}
		if p.Bits() == 0 {
			return invalid(fp, p, "a /0 prefix cannot be stored")
		}
		if fam == FamilyInet6 && !isNet && p.Bits() != 128 {
			return invalid(fp, p, "inet6 address sets take single addresses, not prefixes")
		}
	}
	if to.IsValid() {
		if err := checkFamily(ft, to, fam); err != nil {
			return err
		}
		if fam == FamilyInet6 {
			return invalid(ft, to, "ranges are IPv4 only")
		}
		if to.Less(a) {
			return invalid(ft, to, "range is upside down (before "+a.String()+")")
		}
	}
	return nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
