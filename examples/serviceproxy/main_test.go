package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipvs"
)

// checkProxy runs the example in one mode and checks the datapath: who
// answered each phase, that hairpin traffic works (a backend sent to
// itself), that the update took backend-a out and backend-c in, and what
// the node's conntrack table holds.
func checkProxy(t *testing.T, mode string, requests int) {
	t.Helper()
	checkProxyWith(t, mode, requests, 0, stateChecks{final: func(ctx context.Context, n *network, _ *Report) {
		checkConntrack(t, ctx, n)
	}})
}

// stateChecks are a mode's own checks of kernel state, given the report
// of the phases so far: initial runs after the first phase (before the
// endpoint update), final at the end, both while the network exists.
type stateChecks struct {
	initial, final func(ctx context.Context, n *network, rep *Report)
}

// checkProxyWith is checkProxy with a per-request timeout (0: the
// default) and the mode's own state checks.
func checkProxyWith(t *testing.T, mode string, requests int, timeout time.Duration, checks stateChecks) {
	t.Helper()
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var rep Report
	var out bytes.Buffer
	// The example's output, also when a state check stops the test
	// from inside run.
	defer func() { t.Log("\n" + out.String()) }()
	err := run(ctx, &out, options{Mode: mode, Requests: requests, Timeout: timeout, report: &rep,
		inspect: func(n *network) error {
			if checks.final != nil {
				checks.final(ctx, n, &rep)
			}
			return nil
		},
		inspectInitial: func(n *network) error {
			if checks.initial != nil {
				checks.initial(ctx, n, &rep)
			}
			return nil
		}})
	require.NoError(t, err)

	phase := func(name, svc, from string) Phase { return rep.phase(t, name, svc, from) }
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

func (rep *Report) phase(t *testing.T, name, svc, from string) Phase {
	t.Helper()
	for _, p := range rep.Phases {
		if p.Name == name && p.Service == svc && p.From == from {
			return p
		}
	}
	t.Fatalf("no phase %s %s from %s", name, svc, from)
	return Phase{}
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

// On a kernel without IPVS (this project's host), -mode ipvs must say so
// plainly and exit non-zero, not fail somewhere obscure. Where IPVS
// exists, main_vm_test.go runs the mode for real.
func TestIPVSModeUnavailable(t *testing.T) {
	nstest.RequireRoot(t)
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS: the ipvs mode itself is tested (main_vm_test.go)")
	}
	ctx := context.Background()
	err := run(ctx, io.Discard, options{Mode: "ipvs", Requests: 1})
	require.ErrorIs(t, err, ipvs.ErrNotSupported)

	var stdout, stderr bytes.Buffer
	code := mainRun(ctx, []string{"-mode", "ipvs", "-requests", "1"}, &stdout, &stderr)
	require.Equal(t, 1, code, "exit status; stderr: %s", stderr.String())
	require.Contains(t, stderr.String(), "serviceproxy: IPVS not available in this kernel")
	require.NotContains(t, stdout.String(), "requests", "nothing may be printed as if it ran")
}

func TestBadArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, mainRun(context.Background(), []string{"-requests", "x"}, &stdout, &stderr))
	nstest.RequireRoot(t)
	stderr.Reset()
	require.Equal(t, 1, mainRun(context.Background(), []string{"-mode", "userspace"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `unknown mode "userspace"`)
}

func TestIPTablesMode(t *testing.T) { checkProxy(t, "iptables", 20) }
func TestNFTablesMode(t *testing.T) { checkProxy(t, "nftables", 20) }
