package ipset

import (
	"net/netip"
	"testing"
)

// TestRangeToPrefixesMatchesKernel adds ranges to a hash:net set and
// compares what the kernel stored with RangeToPrefixes.
func TestRangeToPrefixesMatchesKernel(t *testing.T) {
	_, c := testConn(t)
	ctx := testCtx(t)
	ranges := [][2]string{
		{"192.0.2.0", "192.0.2.10"},
		{"198.51.100.3", "198.51.100.200"},
		{"203.0.113.255", "203.0.113.255"},
		{"10.0.0.0", "10.255.255.255"},
	}
	for i, r := range ranges {
		from, to := netip.MustParseAddr(r[0]), netip.MustParseAddr(r[1])
		name := "r" + itoa(i)
		if err := c.Create(ctx, Set{Name: name, Type: HashNet}); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(ctx, name, Entry{Addr: from, AddrTo: to}); err != nil {
			t.Fatal(err)
		}
		kernel := map[netip.Prefix]bool{}
		for e, err := range c.Entries(ctx, name) {
			if err != nil {
				t.Fatal(err)
			}
			p := e.Prefix
			if !p.IsValid() {
				p = netip.PrefixFrom(e.Addr, 32)
			}
			kernel[p] = true
		}
		ours := RangeToPrefixes(from, to)
		if len(ours) != len(kernel) {
			t.Errorf("%s-%s: %d prefixes, kernel stored %d: %v", from, to, len(ours), len(kernel), ours)
		}
		for _, p := range ours {
			if !kernel[p] {
				t.Errorf("%s-%s: %s not stored by the kernel", from, to, p)
			}
		}
	}
	if RangeToPrefixes(netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")) != nil {
		t.Error("upside-down range")
	}
	if got := RangeToPrefixes(netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("2001:db8::ff")); len(got) != 1 || got[0].Bits() != 120 {
		t.Errorf("IPv6: %v", got)
	}
}
