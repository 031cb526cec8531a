package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/internal/nstest"
)

// checkProxy runs the example in one mode and checks the datapath: who
// answered each phase, that hairpin traffic works (a backend sent to
// itself), that the update took backend-a out and backend-c in, and what
// the node's conntrack table holds.
func checkProxy(t *testing.T, mode string, requests int) {
	t.Helper()
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var rep Report
	var out bytes.Buffer
	err := run(ctx, &out, options{Mode: mode, Requests: requests, report: &rep,
		inspect: func(n *network) error {
			checkConntrack(t, ctx, n)
			return nil
		}})
	require.NoError(t, err, out.String())
	t.Log("\n" + out.String())

	phase := func(name, svc, from string) Phase {
		for _, p := range rep.Phases {
			if p.Name == name && p.Service == svc && p.From == from {
				return p
			}
		}
		t.Fatalf("no phase %s %s from %s", name, svc, from)
		return Phase{}
	}
	// Phase 1: web is balanced over a and b only; api goes to c.
	p := phase("initial", "web", "client")
	require.Zero(t, p.Failed, p.LastErr)
	require.Positive(t, p.Answers["backend-a"], "web must reach backend-a")
	require.Positive(t, p.Answers["backend-b"], "web must reach backend-b")
	require.Equal(t, requests, p.Answers["backend-a"]+p.Answers["backend-b"])
	p = phase("initial", "api", "client")
	require.Zero(t, p.Failed, p.LastErr)
	require.Equal(t, map[string]int{"backend-c": requests}, p.Answers)
	// Hairpin: every request works, including those sent back to backend-a.
	p = phase("hairpin", "web", "backend-a")
	require.Zero(t, p.Failed, "hairpin requests must work (masquerade): %s", p.LastErr)
	require.Positive(t, p.Answers["backend-a"], "some hairpin requests must land on backend-a itself")
	// Phase 2: a is gone from web, c serves it with b; api unchanged.
	p = phase("updated", "web", "client")
	require.Zero(t, p.Failed, p.LastErr)
	require.Zero(t, p.Answers["backend-a"], "backend-a was removed from web")
	require.Positive(t, p.Answers["backend-b"])
	require.Positive(t, p.Answers["backend-c"])
	p = phase("updated", "api", "client")
	require.Equal(t, map[string]int{"backend-c": requests}, p.Answers)
}

// checkConntrack reads the node's conntrack table: connections to the web
// VIP were destination-NATed to the backends that answered.
func checkConntrack(t *testing.T, ctx context.Context, n *network) {
	c, err := conntrack.Dial(&conntrack.Config{NetNS: n.node.FD()})
	require.NoError(t, err)
	defer c.Close()
	flows, err := c.List(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: webVIP, Proto: conntrack.ProtoTCP, DstPort: 80}})
	require.NoError(t, err)
	seen := map[string]int{}
	for _, f := range flows {
		require.NotZero(t, f.Status&conntrack.StatusDstNAT, "flow %v must be DNATed", f.String())
		seen[n.nameOf(f.Reply.Src)]++
	}
	for _, b := range []string{"backend-a", "backend-b", "backend-c"} {
		require.Positive(t, seen[b], "conntrack must hold web flows answered by %s: %v", b, seen)
	}
}

func TestIPTablesMode(t *testing.T) { checkProxy(t, "iptables", 20) }
func TestNFTablesMode(t *testing.T) { checkProxy(t, "nftables", 20) }
