package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/nfkit/nfkit/examples/internal/netlab"
)

type options struct {
	Mode     string // iptables, nftables, ipvs
	Requests int    // per service and phase
	// Timeout bounds each request (connect and answer); 0 means 2s. Under
	// an emulated kernel (the VM runner) it must be longer.
	Timeout time.Duration

	// report, when set (by the test), receives what happened.
	report *Report
	// inspect, when set (by the test), runs at the end while the network
	// still exists; inspectInitial after the first phase, before the
	// endpoint update.
	inspect, inspectInitial func(n *network) error
}

// Report is what the datapath did: who answered each batch of requests.
type Report struct {
	Phases []Phase
}

// Phase is one batch of requests from one namespace to one service.
type Phase struct {
	Name    string
	Service string
	From    string
	Answers map[string]int // backend name -> answers
	Failed  int
	LastErr string
}

var (
	webVIP = netip.MustParseAddr("203.0.113.10")
	apiVIP = netip.MustParseAddr("203.0.113.11")
)

func (n *network) services(web, api []string) []Service {
	eps := func(names []string) []netip.AddrPort {
		var out []netip.AddrPort
		for _, name := range names {
			out = append(out, n.backend(name).Endpoint())
		}
		return out
	}
	return []Service{
		{Name: "web", VIP: webVIP, Port: 80, Endpoints: eps(web)},
		{Name: "api", VIP: apiVIP, Port: 80, Endpoints: eps(api)},
	}
}

func newProxier(mode string, n *network) (proxier, error) {
	switch mode {
	case "iptables":
		return newIPTablesProxier(n.node)
	case "nftables":
		return newNFTablesProxier(n.node)
	case "ipvs":
		return newIPVSProxier(n.node)
	}
	return nil, fmt.Errorf("unknown mode %q (iptables, nftables or ipvs)", mode)
}

func run(ctx context.Context, out io.Writer, opts options) (err error) {
	if opts.Requests <= 0 {
		opts.Requests = 30
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	switch opts.Mode {
	case "iptables", "nftables", "ipvs":
	default: // before building anything
		return fmt.Errorf("unknown mode %q (iptables, nftables or ipvs)", opts.Mode)
	}
	n, err := buildNetwork("backend-a", "backend-b", "backend-c")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := n.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	p, err := newProxier(opts.Mode, n)
	if err != nil {
		return err
	}
	defer p.Close()
	report := opts.report
	if report == nil {
		report = &Report{}
	}
	fmt.Fprintf(out, "# service proxy, %s mode; node namespace %s\n", opts.Mode, n.node.Name)

	ask := func(phase string, svc Service, from string) {
		ns := n.client
		if from != "client" {
			ns = n.backend(from).NS
		}
		ph := Phase{Name: phase, Service: svc.Name, From: from, Answers: map[string]int{}}
		for range opts.Requests {
			name, err := netlab.Ask(ctx, ns, netip.AddrPortFrom(svc.VIP, svc.Port), opts.Timeout)
			if err != nil {
				ph.Failed++
				ph.LastErr = err.Error()
				continue
			}
			ph.Answers[name]++
		}
		report.Phases = append(report.Phases, ph)
		fmt.Fprintf(out, "%-8s %s -> %s %s:%d: %s\n", phase, from, svc.Name, svc.VIP, svc.Port, summary(ph))
	}

	// Phase 1: web on a and b, api on c.
	services := n.services([]string{"backend-a", "backend-b"}, []string{"backend-c"})
	if err := p.Sync(ctx, services); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	fmt.Fprintln(out, "\n## rules after the first sync")
	if err := p.Describe(ctx, out); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n## requests")
	ask("initial", services[0], "client")
	ask("initial", services[1], "client")
	// Hairpin: a backend calls its own service and may be sent to itself;
	// that only works because such traffic is masqueraded.
	ask("hairpin", services[0], "backend-a")
	if opts.inspectInitial != nil {
		if err := opts.inspectInitial(n); err != nil {
			return err
		}
	}

	// Phase 2: backend-a leaves web, backend-c joins it.
	services = n.services([]string{"backend-b", "backend-c"}, []string{"backend-c"})
	if err := p.Sync(ctx, services); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	fmt.Fprintln(out, "\n## rules after web's endpoints changed to backend-b, backend-c")
	if err := p.Describe(ctx, out); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n## requests")
	ask("updated", services[0], "client")
	ask("updated", services[1], "client")
	if opts.inspect != nil {
		return opts.inspect(n)
	}
	return nil
}

func summary(ph Phase) string {
	var names []string
	for k := range ph.Answers {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s x%d", k, ph.Answers[k]))
	}
	if ph.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (%s)", ph.Failed, ph.LastErr))
	}
	return strings.Join(parts, ", ")
}
