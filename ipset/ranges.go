package ipset

import "net/netip"

// RangeToPrefixes splits the address range from-to into the fewest
// prefixes, largest first in address order: what the kernel stores when a
// range is added to a hash:net-family set (and what `ipset save` then
// prints). It returns nil for a range upside down or mixing families.
func RangeToPrefixes(from, to netip.Addr) []netip.Prefix {
	if !from.IsValid() || !to.IsValid() || from.Is4() != to.Is4() || to.Less(from) {
		return nil
	}
	var out []netip.Prefix
	bits := from.BitLen()
	for {
		// The largest prefix starting at from that stays within to.
		n := bits
		for n > 0 {
			p, _ := from.Prefix(n - 1)
			if p.Addr() != from || to.Less(lastAddr(p)) {
				break
			}
			n--
		}
		p := netip.PrefixFrom(from, n)
		out = append(out, p)
		last := lastAddr(p)
		if last == to {
			return out
		}
		from = last.Next()
	}
}
