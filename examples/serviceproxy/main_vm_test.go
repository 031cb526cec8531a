//go:build vmtest

// The IPVS mode needs a kernel with IPVS, which this project's host lacks;
// it runs in the second kernel:
//
//	go build -o bin/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -count=1 -tags vmtest -exec $PWD/bin/vmtest ./examples/serviceproxy/
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/ipvs"
)

// TestVMIPVSMode runs the example in IPVS mode with real TCP requests and
// checks the same datapath behaviour as the other modes (checkProxyWith:
// balancing over the right backends, the update moves traffic, hairpin
// works), then the kernel state IPVS mode is made of: the virtual
// services and their per-real-server connection counts, the ipsets, the
// iptables rules, the VIPs on kube-ipvs0, and conntrack (IPVS flows are
// tracked because of net.ipv4.vs.conntrack=1, and hairpin flows are
// masqueraded).
func TestVMIPVSMode(t *testing.T) {
	requireIPVS(t)
	// Under TCG the guest is 10-50x slower: few requests, long timeouts.
	checkProxyWith(t, "ipvs", 6, 20*time.Second, stateChecks{
		initial: func(ctx context.Context, n *network, rep *Report) {
			checkIPVSConntrackInitial(t, ctx, n, rep)
		},
		final: func(ctx context.Context, n *network, rep *Report) {
			checkIPVSServices(t, ctx, n, rep)
			checkIPVSSets(t, ctx, n)
			checkIPVSRules(t, n)
			checkIPVSConntrackFinal(t, ctx, n)
		},
	})
}

func requireIPVS(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	c, err := ipvs.Dial(&ipvs.Config{NetNS: ns.FD()})
	if errors.Is(err, ipvs.ErrNotSupported) {
		nstest.Unavailable(t, err.Error())
	}
	require.NoError(t, err)
	c.Close()
}

// The virtual services after the update, as nfkit reads them and as
// ipvsadm -Sn prints them; and the connections each real server took,
// which must add up to the answers each backend gave.
func checkIPVSServices(t *testing.T, ctx context.Context, n *network, rep *Report) {
	t.Helper()
	c, err := ipvs.Dial(&ipvs.Config{NetNS: n.node.FD()})
	require.NoError(t, err)
	defer c.Close()
	const want = "-A -t 203.0.113.10:80 -s rr\n" +
		"-a -t 203.0.113.10:80 -r 198.51.100.6:8080 -m -w 1\n" +
		"-a -t 203.0.113.10:80 -r 198.51.100.10:8080 -m -w 1\n" +
		"-A -t 203.0.113.11:80 -s rr\n" +
		"-a -t 203.0.113.11:80 -r 198.51.100.10:8080 -m -w 1\n"
	svcs, err := c.ListServices(ctx)
	require.NoError(t, err)
	var saved bytes.Buffer
	require.NoError(t, ipvs.Save(&saved, svcs))
	require.Equal(t, sortedLines(want), sortedLines(saved.String()), "IPVS services read by nfkit")
	if _, err := n.node.Exec("ipvsadm", "-v"); err == nil {
		out, err := n.node.Exec("ipvsadm", "-Sn")
		require.NoError(t, err, out)
		require.Equal(t, sortedLines(want), sortedLines(out), "ipvsadm -Sn must agree")
	}

	// Expected connections per (service, real server): web's backend-b
	// served the initial, hairpin and updated phases; backend-c joined
	// web only for the update; api kept backend-c throughout.
	count := func(svc, backend string, phases ...string) uint64 {
		var sum uint64
		for _, p := range rep.Phases {
			if p.Service == svc && slices.Contains(phases, p.Name) {
				sum += uint64(p.Answers[backend])
			}
		}
		return sum
	}
	wantConns := map[string]uint64{
		"web " + n.backend("backend-b").Endpoint().String(): count("web", "backend-b", "initial", "hairpin", "updated"),
		"web " + n.backend("backend-c").Endpoint().String(): count("web", "backend-c", "updated"),
		"api " + n.backend("backend-c").Endpoint().String(): count("api", "backend-c", "initial", "updated"),
	}
	for k, v := range wantConns {
		require.Positive(t, v, "%s must have answered", k)
	}
	// Counters are per CPU, summed by the rate estimator every two
	// seconds (slower under TCG): wait for them.
	var got map[string]uint64
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		svcs, err := c.ListServices(ctx)
		require.NoError(t, err)
		got = map[string]uint64{}
		for _, s := range svcs {
			name := map[netip.Addr]string{webVIP: "web", apiVIP: "api"}[s.Addr]
			for _, d := range s.Destinations {
				require.NotNil(t, d.State)
				got[fmt.Sprintf("%s %s", name, netip.AddrPortFrom(d.Addr, d.Port))] = d.State.Stats.Conns
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(wantConns) || time.Now().After(deadline) {
			break
		}
	}
	require.Equal(t, wantConns, got, "IPVS connections per real server must equal the answers each backend gave")
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return lines
}

// The ipsets after the update: backend-a's hairpin entry is gone,
// backend-c's is there; the CLI reads the same.
func checkIPVSSets(t *testing.T, ctx context.Context, n *network) {
	t.Helper()
	sc, err := ipset.Dial(&ipset.Config{NetNS: n.node.FD()})
	require.NoError(t, err)
	defer sc.Close()
	read := func(name string) []string {
		var out []string
		for e, err := range sc.Entries(ctx, name) {
			require.NoError(t, err)
			s := netip.AddrPortFrom(e.Addr, e.Port).String()
			if e.Addr2.IsValid() {
				s += "," + e.Addr2.String()
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, []string{"198.51.100.10:8080,198.51.100.10", "198.51.100.6:8080,198.51.100.6"}, read(setLoopBack))
	require.Equal(t, []string{"203.0.113.10:80", "203.0.113.11:80"}, read(setClusterIP))
	if _, err := n.node.Exec("ipset", "-v"); err == nil {
		out := n.node.Run(t, "ipset", "save", setLoopBack)
		require.Contains(t, out, "add KUBE-LOOP-BACK 198.51.100.6,tcp:8080,198.51.100.6\n")
		require.Contains(t, out, "add KUBE-LOOP-BACK 198.51.100.10,tcp:8080,198.51.100.10\n")
		require.NotContains(t, out, "198.51.100.2,", "backend-a left every service")
	}
	addrs := n.node.Run(t, "ip", "-4", "-o", "addr", "show", "dev", ipvsDummy)
	for _, vip := range []netip.Addr{webVIP, apiVIP} {
		require.Contains(t, addrs, "inet "+vip.String()+"/32", "VIP on "+ipvsDummy)
	}
}

// The iptables rules as iptables-nft-save prints them: kube-proxy's
// hairpin masquerade and cluster IP accept rules with their set matches.
func checkIPVSRules(t *testing.T, n *network) {
	t.Helper()
	if _, err := n.node.Exec("iptables-nft-save", "--version"); err != nil {
		t.Log("iptables-nft-save not in the guest; rules not cross-checked")
		return
	}
	out := n.node.Run(t, "iptables-nft-save", "-t", "nat")
	for _, line := range []string{
		`-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
		`-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT`,
		`-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
	} {
		require.Contains(t, out, line+"\n")
	}
}

func webFlows(t *testing.T, ctx context.Context, n *network) []conntrack.Flow {
	t.Helper()
	c, err := conntrack.Dial(&conntrack.Config{NetNS: n.node.FD()})
	require.NoError(t, err)
	defer c.Close()
	flows, err := c.List(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: webVIP, Proto: conntrack.ProtoTCP, DstPort: 80}})
	require.NoError(t, err)
	return flows
}

// conntrack in the node before the update: IPVS flows are tracked
// (vs.conntrack=1) with their reply tuple rewritten to the real server,
// so the backends that answered web appear as reply sources; hairpin
// flows that IPVS sent back to backend-a itself were source-NATed
// (masqueraded) to the node's address on that link.
func checkIPVSConntrackInitial(t *testing.T, ctx context.Context, n *network, rep *Report) {
	t.Helper()
	seen := map[string]int{}
	a := n.backend("backend-a").Addr
	nodeA := a.Prev() // the node's end of backend-a's link
	var hairpinToSelf int
	for _, f := range webFlows(t, ctx, n) {
		seen[n.nameOf(f.Reply.Src)]++
		if f.Origin.Src == a && f.Reply.Src == a {
			hairpinToSelf++
			require.NotZero(t, f.Status&conntrack.StatusSrcNAT, "hairpin flow %v must be masqueraded", f.String())
			require.Equal(t, nodeA, f.Reply.Dst, "hairpin flow %v must be masqueraded to the node's address", f.String())
		}
	}
	require.Equal(t, map[string]int{"backend-a": rep.phase(t, "initial", "web", "client").Answers["backend-a"] + rep.phase(t, "hairpin", "web", "backend-a").Answers["backend-a"],
		"backend-b": rep.phase(t, "initial", "web", "client").Answers["backend-b"] + rep.phase(t, "hairpin", "web", "backend-a").Answers["backend-b"]},
		seen, "one conntrack flow per web request, by the backend that answered")
	require.Equal(t, rep.phase(t, "hairpin", "web", "backend-a").Answers["backend-a"], hairpinToSelf,
		"one masqueraded conntrack flow per hairpin request that landed on backend-a")
}

// conntrack at the end: web's flows to backend-b and backend-c are
// there; backend-a's are gone, because with expire_nodest_conn=1 the
// kernel (5.9+) expires the connections of a deleted real server, and
// their conntrack entries with them.
func checkIPVSConntrackFinal(t *testing.T, ctx context.Context, n *network) {
	t.Helper()
	var seen map[string]int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		seen = map[string]int{}
		for _, f := range webFlows(t, ctx, n) {
			seen[n.nameOf(f.Reply.Src)]++
		}
		if seen["backend-a"] == 0 || time.Now().After(deadline) {
			break
		}
	}
	require.Positive(t, seen["backend-b"], "web flows answered by backend-b: %v", seen)
	require.Positive(t, seen["backend-c"], "web flows answered by backend-c: %v", seen)
	require.Zero(t, seen["backend-a"], "flows of the removed real server must be expired: %v", seen)
}

// IPVS has no transactions: when the kernel refuses part of an update,
// ipvs.Apply undoes the changes it made and Sync removes the VIPs and set
// entries it had added, so the node is exactly as before and traffic
// still follows the old endpoints. The fault is real: the kernel refuses
// an IPv6 real server in an IPv4 NAT service, after the new service and
// backend-c have been added.
func TestVMIPVSModeRollback(t *testing.T) {
	requireIPVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := buildNetwork("backend-a", "backend-b", "backend-c")
	require.NoError(t, err)
	defer n.Close()
	px, err := newIPVSProxier(n.node)
	require.NoError(t, err)
	p := px.(*ipvsProxier)
	defer p.Close()

	require.NoError(t, p.Sync(ctx, n.services([]string{"backend-a", "backend-b"}, []string{"backend-c"})))
	snapshot := func() string {
		var b bytes.Buffer
		svcs, err := p.ipvs.ListServices(ctx)
		require.NoError(t, err)
		require.NoError(t, ipvs.Save(&b, svcs))
		require.NoError(t, p.sets.Save(ctx, &b, setClusterIP))
		require.NoError(t, p.sets.Save(ctx, &b, setLoopBack))
		b.WriteString(n.node.Run(t, "ip", "-4", "-o", "addr", "show", "dev", ipvsDummy))
		return b.String()
	}
	before := snapshot()

	// The update: web moves to b and c, and a new service appears.
	update := n.services([]string{"backend-b", "backend-c"}, []string{"backend-c"})
	update = append(update, Service{Name: "extra", VIP: netip.MustParseAddr("203.0.113.12"), Port: 80,
		Endpoints: []netip.AddrPort{n.backend("backend-a").Endpoint()}})
	p.faultIPVS = func(desired []ipvs.Service) {
		for i := range desired {
			if desired[i].Addr == webVIP {
				desired[i].Destinations = append(desired[i].Destinations, ipvs.Destination{
					DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr("2001:db8::9"), Port: 8080},
					Forward:        ipvs.Masquerade, Weight: 1})
			}
		}
	}
	err = p.Sync(ctx, update)
	require.Error(t, err)
	t.Log(err)
	var ae *ipvs.ApplyError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ipvs.AddDestinationChange, ae.Failed.Kind)
	require.Equal(t, netip.MustParseAddr("2001:db8::9"), ae.Failed.Destination.Addr)
	require.True(t, ae.RolledBack)
	require.NoError(t, ae.RollbackErr)
	require.Empty(t, ae.Applied, "nothing stays applied after the rollback")
	require.Equal(t, before, snapshot(), "IPVS, ipsets and VIPs must be as before the failed update")

	web := netip.AddrPortFrom(webVIP, 80)
	got, err := netlab.Tally(ctx, n.client, web, 4, 20*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"backend-a": 2, "backend-b": 2}, got, "traffic still follows the old endpoints")

	// Without the fault the same update goes through.
	p.faultIPVS = nil
	require.NoError(t, p.Sync(ctx, update))
	got, err = netlab.Tally(ctx, n.client, web, 4, 20*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"backend-b": 2, "backend-c": 2}, got)
	got, err = netlab.Tally(ctx, n.client, netip.AddrPortFrom(netip.MustParseAddr("203.0.113.12"), 80), 2, 20*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"backend-a": 2}, got)
}
