package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/iptables"
)

type options struct {
	Prefixes int
	result   *Result
	// decoys are empty sets created first (test only), so the blocklist's
	// kernel index is not 0 and a rule holding the wrong index shows.
	decoys int
}

// Result is what happened, for the test.
type Result struct {
	Loaded, Replaced     int           // entries in the set after each step
	LoadTime, SwapTime   time.Duration // bulk load, atomic replace
	APassed1, BPassed1   bool          // with the first list (blocks A)
	APassed2, BPassed2   bool          // with the replacement (blocks B)
	SavedRule            string        // ip6tables-nft-save's view of the rule, if installed
	ListedRule           string        // nfkit's view of the rule, listed back from the kernel
	SetIndex             uint16        // the set's kernel index the listed rule holds
	HasIndex             bool
	IpsetIndex           uint16 // the set's index as package ipset reports it
	ReferencesAfterSwaps uint32
}

const setName = "blocklist"

var (
	hostA   = netip.MustParsePrefix("2001:db8:a::1/64")
	clientA = netip.MustParsePrefix("2001:db8:a::2/64")
	hostB   = netip.MustParsePrefix("2001:db8:b::1/64")
	clientB = netip.MustParsePrefix("2001:db8:b::2/64")
)

// generated returns n distinct /64s of 2001:db8:X:Y::/64 with X from
// 0x100 up (well away from the clients' subnets), offset by seed.
func generated(n, seed int) []ipset.Entry {
	out := make([]ipset.Entry, 0, n+1)
	for i := range n {
		v := i + seed
		x := 0x100 + v>>8
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(x >> 8), byte(x), 0, byte(v)}
		out = append(out, ipset.Entry{Prefix: netip.PrefixFrom(netip.AddrFrom16(a), 64)})
	}
	return out
}

func run(ctx context.Context, out io.Writer, opts options) (err error) {
	if opts.Prefixes <= 0 {
		opts.Prefixes = 50000
	}
	res := opts.result
	if res == nil {
		res = &Result{}
	}
	var lab netlab.Lab
	defer func() {
		if cerr := lab.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	host, err := lab.NS("bl-host")
	if err != nil {
		return err
	}
	a, err := lab.NS("bl-client-a")
	if err != nil {
		return err
	}
	b, err := lab.NS("bl-client-b")
	if err != nil {
		return err
	}
	if err := netlab.Veth(host, "to-a", hostA, a, "eth0", clientA); err != nil {
		return err
	}
	if err := netlab.Veth(host, "to-b", hostB, b, "eth0", clientB); err != nil {
		return err
	}
	if err := lab.Serve(host, netip.AddrPortFrom(netip.IPv6Unspecified(), 8080), "host"); err != nil {
		return err
	}

	sc, err := ipset.Dial(&ipset.Config{NetNS: host.FD()})
	if err != nil {
		return err
	}
	defer sc.Close()
	set := ipset.Set{Name: setName, Type: ipset.HashNet, Family: ipset.FamilyInet6, MaxElem: uint32(opts.Prefixes + 1024)}

	for i := range opts.decoys {
		if err := sc.Create(ctx, ipset.Set{Name: fmt.Sprintf("decoy-%d", i), Type: ipset.HashNet, Family: ipset.FamilyInet6}); err != nil {
			return err
		}
	}

	// 1. Bulk load: the generated list plus client A's subnet.
	list := append(generated(opts.Prefixes, 0), ipset.Entry{Prefix: clientA.Masked()})
	start := time.Now()
	if err := sc.ReplaceSet(ctx, set, list); err != nil { // the set does not exist yet: created filled
		return err
	}
	res.LoadTime = time.Since(start)
	got, err := sc.Get(ctx, setName)
	if err != nil {
		return err
	}
	res.Loaded = int(got.Entries)
	fmt.Fprintf(out, "# blocklist in namespace %s\nloaded %d prefixes in %v (like ipset restore)\n", host.Name, res.Loaded, res.LoadTime.Round(time.Millisecond))

	// 2. The rule that uses it, written as on the command line. The kernel
	// rule holds the set's index, not its name: Commit looks the name up in
	// the host's namespace (as iptables does, with getsockopt SO_IP_SET),
	// and listing turns the index back into the name.
	ic, err := iptables.Dial(&iptables.Config{NetNS: host.FD()})
	if err != nil {
		return err
	}
	defer ic.Close()
	batch := iptables.NewBatch()
	// Neighbour discovery must pass before the blocklist: a blocked
	// client's solicitations carry its (blocked) address, and a host that
	// dropped them keeps a failed neighbour entry that delays the client's
	// first connection after it is unblocked.
	nd, err := iptables.ParseRule(iptables.IPv6, "-A INPUT -p ipv6-icmp -j ACCEPT")
	if err != nil {
		return err
	}
	rule, err := iptables.ParseRule(iptables.IPv6, "-A INPUT -m set --match-set blocklist src -j DROP")
	if err != nil {
		return err
	}
	for _, r := range []*iptables.Rule{nd, rule} {
		if err := batch.Append(iptables.IPv6, r); err != nil {
			return err
		}
	}
	if err := ic.Commit(ctx, batch); err != nil {
		return err
	}
	listed, err := ic.ListRules(ctx, iptables.IPv6, "filter", "INPUT")
	if err != nil {
		return err
	}
	for _, r := range listed {
		for _, m := range r.Matches {
			if sm, ok := m.(*iptables.Set); ok {
				res.ListedRule = r.String()
				res.SetIndex, res.HasIndex = sm.Ref.Index()
			}
		}
	}
	if res.IpsetIndex, err = sc.Index(ctx, setName); err != nil {
		return err
	}
	fmt.Fprintf(out, "nfkit lists the rule as: %s (kernel set index %d; ipset %s has index %d)\n",
		res.ListedRule, res.SetIndex, setName, res.IpsetIndex)
	if netlab.Have("ip6tables-nft-save") {
		save, _ := host.Exec("ip6tables-nft-save", "-t", "filter")
		for _, line := range splitLines(save) {
			if len(line) > 9 && line[:9] == "-A INPUT " {
				res.SavedRule = line
			}
		}
		fmt.Fprintf(out, "ip6tables-nft-save shows the rule as: %s\n", res.SavedRule)
	}

	ask := func(label string, ns *nstest.NS, to netip.Addr) bool {
		_, err := netlab.Ask(ctx, ns, netip.AddrPortFrom(to, 8080), time.Second)
		verdict := "passes"
		if err != nil {
			verdict = "blocked"
		}
		fmt.Fprintf(out, "  %-30s %s\n", label, verdict)
		return err == nil
	}
	fmt.Fprintln(out, "with the first list (blocks 2001:db8:a::/64):")
	res.APassed1 = ask("client A 2001:db8:a::2", a, hostA.Addr())
	res.BPassed1 = ask("client B 2001:db8:b::2", b, hostB.Addr())

	// 3. Atomic replacement: a new list (other generated prefixes plus B's
	// subnet) is filled in a temporary set and swapped in; the rule sees
	// the old list, then the new one, never a mix or an empty set.
	list = append(generated(opts.Prefixes, 7), ipset.Entry{Prefix: clientB.Masked()})
	start = time.Now()
	if err := sc.ReplaceSet(ctx, set, list); err != nil {
		return err
	}
	res.SwapTime = time.Since(start)
	if got, err = sc.Get(ctx, setName); err != nil {
		return err
	}
	res.Replaced = int(got.Entries)
	res.ReferencesAfterSwaps = got.References
	fmt.Fprintf(out, "replaced with %d prefixes in %v (temporary set, swap, destroy)\n", res.Replaced, res.SwapTime.Round(time.Millisecond))
	fmt.Fprintln(out, "with the replacement (blocks 2001:db8:b::/64):")
	res.APassed2 = ask("client A 2001:db8:a::2", a, hostA.Addr())
	res.BPassed2 = ask("client B 2001:db8:b::2", b, hostB.Addr())
	return nil
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
