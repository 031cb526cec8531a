package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

type options struct {
	// result, when set (by the test), receives the outcome of every check.
	result *Result
}

// Result is what the datapath did.
type Result struct {
	AllowedService  bool // allowed client -> service port
	AllowedOther    bool // allowed client -> a closed port
	OutsideService  bool // client outside the prefixes -> service port
	Outbound        bool // host -> outside client (replies come back as established)
	LimitedPassed   int  // of LimitedTries new connections to the rate-limited port
	LimitedTries    int
	DroppedCounted  uint64 // packets counted by the last rule before the drop policy
	ServiceAccepted uint64 // packets counted by the service rule
}

var (
	hostOK    = netip.MustParsePrefix("192.0.2.1/24")
	clientOK  = netip.MustParsePrefix("192.0.2.2/24") // inside 192.0.2.0/25: allowed
	hostOut   = netip.MustParsePrefix("198.51.100.1/24")
	clientOut = netip.MustParsePrefix("198.51.100.2/24") // not allowed
	policy    = Policy{
		Allowed:     []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("203.0.113.0/24")},
		ServicePort: 8080, LimitedPort: 9090, LimitPerMin: 3, LimitBurst: 2,
	}
)

const closedPort = 7070

func run(ctx context.Context, out io.Writer, opts options) (err error) {
	var lab netlab.Lab
	defer func() {
		if cerr := lab.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	host, err := lab.NS("fw-host")
	if err != nil {
		return err
	}
	ok, err := lab.NS("fw-allowed")
	if err != nil {
		return err
	}
	outside, err := lab.NS("fw-outside")
	if err != nil {
		return err
	}
	if err := netlab.Veth(host, "to-allowed", hostOK, ok, "eth0", clientOK); err != nil {
		return err
	}
	if err := netlab.Veth(host, "to-outside", hostOut, outside, "eth0", clientOut); err != nil {
		return err
	}
	for _, port := range []uint16{policy.ServicePort, policy.LimitedPort, closedPort} {
		if err := lab.Serve(host, netip.AddrPortFrom(netip.IPv4Unspecified(), port), fmt.Sprintf("host:%d", port)); err != nil {
			return err
		}
	}
	if err := lab.Serve(outside, netip.AddrPortFrom(clientOut.Addr(), 8080), "outside-server"); err != nil {
		return err
	}

	c, err := nft.Dial(&nft.Config{NetNS: host.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	// Applied twice: the second time replaces the first atomically.
	for range 2 {
		if err := Apply(ctx, c, policy); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "# firewall applied in namespace %s\n", host.Name)
	if err := netlab.PrintTable(ctx, out, c, nft.FamilyINet, table); err != nil {
		return err
	}

	res := opts.result
	if res == nil {
		res = &Result{}
	}
	// Dropped connections are silent, so a check waits its whole timeout:
	// short for the probes expected to be dropped, longer for those that
	// must pass (a first connection over a fresh link may wait for
	// neighbour resolution on a loaded machine).
	const mustPass, mayDrop = 3 * time.Second, 300 * time.Millisecond
	try := func(label string, ns *nstest.NS, to netip.AddrPort, wait time.Duration) bool {
		_, err := netlab.Ask(ctx, ns, to, wait)
		verdict := "passes"
		if err != nil {
			verdict = "blocked (" + err.Error() + ")"
		}
		fmt.Fprintf(out, "%-48s %s\n", label, verdict)
		return err == nil
	}
	fmt.Fprintln(out, "\n## datapath")
	res.AllowedService = try("allowed client 192.0.2.2 -> :8080", ok, netip.AddrPortFrom(hostOK.Addr(), policy.ServicePort), mustPass)
	res.AllowedOther = try("allowed client 192.0.2.2 -> :7070", ok, netip.AddrPortFrom(hostOK.Addr(), closedPort), mayDrop)
	res.OutsideService = try("outside client 198.51.100.2 -> :8080", outside, netip.AddrPortFrom(hostOut.Addr(), policy.ServicePort), mayDrop)
	res.Outbound = try("host -> 198.51.100.2:8080 (replies are established)", host, netip.AddrPortFrom(clientOut.Addr(), 8080), mustPass)
	res.LimitedTries = 6
	for i := range res.LimitedTries {
		if try(fmt.Sprintf("outside client -> :9090 (rate limited), try %d", i+1), outside, netip.AddrPortFrom(hostOut.Addr(), policy.LimitedPort), time.Second) {
			res.LimitedPassed++
		}
	}

	rules, err := c.ListRules(ctx, nft.RuleFilter{Family: nft.FamilyINet, Table: table, Chain: "input"})
	if err != nil {
		return err
	}
	for _, r := range rules {
		for _, e := range r.Exprs {
			if ce, ok := e.(*expr.Counter); ok {
				switch r.Comment {
				case "log and count the rest (policy drop)":
					res.DroppedCounted = ce.Packets
				case "service port from allowed prefixes":
					res.ServiceAccepted = ce.Packets
				}
			}
		}
	}
	fmt.Fprintf(out, "\nrate-limited port: %d of %d new connections passed\n", res.LimitedPassed, res.LimitedTries)
	fmt.Fprintf(out, "counters: service rule %d packets, dropped by policy %d packets\n", res.ServiceAccepted, res.DroppedCounted)
	return nil
}
