package nstest

import (
	"fmt"
	"net/netip"
	"testing"
)

// Link is one end of a veth pair, with its namespace, interface name and
// address.
type Link struct {
	NS   *NS
	Name string
	Addr netip.Prefix
}

// Connect joins a and b with a veth pair named aName/bName, gives them the
// addresses aAddr/bAddr (documentation ranges only: 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and brings both up.
func Connect(t testing.TB, a *NS, aName string, aAddr netip.Prefix, b *NS, bName string, bAddr netip.Prefix) (Link, Link) {
	t.Helper()
	for _, p := range []netip.Prefix{aAddr, bAddr} {
		if !Documentation(p.Addr()) {
			t.Fatalf("nstest: %s is not in a documentation range; test traffic must stay on 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32", p)
		}
	}
	run := func(ns *NS, args ...string) {
		t.Helper()
		if out, err := ns.Exec("ip", args...); err != nil {
			t.Fatalf("nstest: ip %v in %s: %v\n%s", args, ns.Name, err, out)
		}
	}
	run(a, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Path())
	for _, l := range []struct {
		ns   *NS
		name string
		addr netip.Prefix
	}{{a, aName, aAddr}, {b, bName, bAddr}} {
		args := []string{"addr", "add", l.addr.String(), "dev", l.name}
		if l.addr.Addr().Is6() {
			args = append(args, "nodad")
		}
		run(l.ns, args...)
		run(l.ns, "link", "set", l.name, "up")
	}
	return Link{a, aName, aAddr}, Link{b, bName, bAddr}
}

// Route adds a route in ns to dst via gw.
func Route(t testing.TB, ns *NS, dst netip.Prefix, gw netip.Addr) {
	t.Helper()
	if out, err := ns.Exec("ip", "route", "add", dst.String(), "via", gw.String()); err != nil {
		t.Fatalf("nstest: route %s via %s in %s: %v\n%s", dst, gw, ns.Name, err, out)
	}
}

// Sysctl sets a sysctl inside ns, e.g. net.ipv4.ip_forward=1.
func Sysctl(t testing.TB, ns *NS, key, value string) {
	t.Helper()
	if out, err := ns.Exec("sysctl", "-q", "-w", fmt.Sprintf("%s=%s", key, value)); err != nil {
		t.Fatalf("nstest: sysctl %s=%s in %s: %v\n%s", key, value, ns.Name, err, out)
	}
}

var documentation = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// Documentation reports whether a is in a documentation range or loopback,
// the only addresses test traffic may use.
func Documentation(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, p := range documentation {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
