package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/iptables"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// iptablesProxier writes kube-proxy's iptables layout in the nat table:
//
//	PREROUTING, OUTPUT -> KUBE-SERVICES -> KUBE-SVC-<hash> -> KUBE-SEP-<hash> (DNAT)
//	POSTROUTING -> KUBE-POSTROUTING (MASQUERADE what KUBE-MARK-MASQ marked)
//
// Chain names are hashes of their content (a KUBE-SVC chain of its
// endpoint list, a KUBE-SEP chain of its endpoint), so a changed endpoint
// list is a new KUBE-SVC chain. An update is then two transactions: the
// first only adds chains nothing jumps to yet (no effect on traffic), the
// second switches KUBE-SERVICES to them and deletes the stale chains, all
// at once.
type iptablesProxier struct {
	ipt *iptables.Conn
	nft *nft.Conn

	started bool
	svc     map[string]string   // service name -> its KUBE-SVC chain
	seps    map[string][]string // KUBE-SVC chain -> its KUBE-SEP chains
	sepUse  map[string]int      // KUBE-SEP chain -> KUBE-SVC chains using it
}

func newIPTablesProxier(node *nstest.NS) (proxier, error) {
	ipt, err := iptables.Dial(&iptables.Config{NetNS: node.FD()})
	if err != nil {
		return nil, err
	}
	nc, err := nft.Dial(&nft.Config{NetNS: node.FD()})
	if err != nil {
		ipt.Close()
		return nil, err
	}
	return &iptablesProxier{ipt: ipt, nft: nc, svc: map[string]string{},
		seps: map[string][]string{}, sepUse: map[string]int{}}, nil
}

func (p *iptablesProxier) Close() error { p.nft.Close(); return p.ipt.Close() }

// The fixed part, as `iptables-restore` input would have it.
var iptablesBase = []string{
	"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
	"-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
	"-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
	"-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
	"-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
	"-A KUBE-POSTROUTING -j MARK --set-xmark 0x0/0x4000",
	"-A KUBE-POSTROUTING -j MASQUERADE --random-fully",
}

type ruleBatch struct {
	b   *iptables.Batch
	err error
}

func (rb *ruleBatch) chain(name string) {
	if rb.err == nil {
		rb.err = rb.b.NewChain(iptables.IPv4, "nat", name)
	}
}

func (rb *ruleBatch) rule(format string, args ...any) {
	if rb.err != nil {
		return
	}
	r, err := iptables.ParseRule(iptables.IPv4, "-t nat "+fmt.Sprintf(format, args...))
	if err != nil {
		rb.err = err
		return
	}
	rb.err = rb.b.Append(iptables.IPv4, r)
}

func sepChain(svc Service, i int) string {
	return hashName("KUBE-SEP-", svc.Name, svc.Endpoints[i].String())
}

func svcChain(svc Service) string {
	parts := []string{svc.Name, svc.VIP.String(), fmt.Sprint(svc.Port)}
	for _, ep := range svc.Endpoints {
		parts = append(parts, ep.String())
	}
	return hashName("KUBE-SVC-", parts...)
}

func (p *iptablesProxier) Sync(ctx context.Context, services []Service) error {
	rb := &ruleBatch{b: iptables.NewBatch()}
	if !p.started {
		for _, c := range []string{"KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"} {
			rb.chain(c)
		}
		for _, r := range iptablesBase {
			rb.rule("%s", r)
		}
	}
	// Transaction 1: new chains and their rules; new services' jumps.
	type change struct{ old, new string }
	var switches []change
	wanted := map[string]bool{}
	for _, s := range services {
		wanted[s.Name] = true
		chain := svcChain(s)
		old, had := p.svc[s.Name]
		if had && old == chain {
			continue
		}
		var seps []string
		for i, ep := range s.Endpoints {
			sep := sepChain(s, i)
			seps = append(seps, sep)
			if p.sepUse[sep] == 0 {
				rb.chain(sep)
				rb.rule("-A %s -s %s/32 -j KUBE-MARK-MASQ", sep, ep.Addr())
				rb.rule("-A %s -p tcp -m tcp -j DNAT --to-destination %s", sep, ep)
			}
			p.sepUse[sep]++
		}
		rb.chain(chain)
		for i, sep := range seps {
			if left := len(seps) - i; left > 1 {
				rb.rule("-A %s -m statistic --mode random --probability %0.10f -j %s", chain, 1/float64(left), sep)
			} else {
				rb.rule("-A %s -j %s", chain, sep)
			}
		}
		p.seps[chain] = seps
		if had {
			switches = append(switches, change{old, chain})
		} else {
			rb.rule("-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"default/%s\" -m tcp --dport %d -j %s",
				s.VIP, s.Name, s.Port, chain)
		}
		p.svc[s.Name] = chain
	}
	var removed []string
	for name, chain := range p.svc {
		if !wanted[name] {
			removed = append(removed, chain)
			delete(p.svc, name)
		}
	}
	if rb.err != nil {
		return rb.err
	}
	if err := p.ipt.Commit(ctx, rb.b); err != nil {
		return err
	}
	p.started = true
	if len(switches) == 0 && len(removed) == 0 {
		return nil
	}

	// Transaction 2: point KUBE-SERVICES at the new chains and delete the
	// stale ones. The iptables package has no replace/delete yet, but its
	// rules are ordinary nf_tables rules, so the nft package edits them:
	// the jump rule keeps its exact iptables-nft shape, only the target
	// chain of its verdict changes.
	rules, err := p.nft.ListRules(ctx, nft.RuleFilter{Family: nft.FamilyIPv4, Table: "nat", Chain: "KUBE-SERVICES"})
	if err != nil {
		return err
	}
	b := p.nft.NewBatch()
	var stale []string
	for _, sw := range switches {
		r := findJump(rules, sw.old)
		if r == nil {
			return fmt.Errorf("no KUBE-SERVICES rule jumps to %s", sw.old)
		}
		r.Exprs = retarget(r.Exprs, sw.old, sw.new)
		r.Compat = &nft.RuleCompat{Proto: 6} // as iptables-nft sends it with -m tcp
		b.ReplaceRule(r)
		stale = append(stale, sw.old)
	}
	for _, chain := range removed {
		if r := findJump(rules, chain); r != nil {
			b.DeleteRule(r)
		}
		stale = append(stale, chain)
	}
	var staleSeps []string
	for _, chain := range stale {
		b.FlushChain(&nft.Chain{Family: nft.FamilyIPv4, Table: "nat", Name: chain})
		b.DeleteChain(&nft.Chain{Family: nft.FamilyIPv4, Table: "nat", Name: chain})
		for _, sep := range p.seps[chain] {
			if p.sepUse[sep]--; p.sepUse[sep] == 0 {
				delete(p.sepUse, sep)
				staleSeps = append(staleSeps, sep)
			}
		}
		delete(p.seps, chain)
	}
	for _, sep := range staleSeps {
		b.FlushChain(&nft.Chain{Family: nft.FamilyIPv4, Table: "nat", Name: sep})
		b.DeleteChain(&nft.Chain{Family: nft.FamilyIPv4, Table: "nat", Name: sep})
	}
	return b.Commit(ctx)
}

func findJump(rules []*nft.Rule, chain string) *nft.Rule {
	for _, r := range rules {
		for _, e := range r.Exprs {
			if v, ok := e.(*expr.Verdict); ok && v.Kind == expr.VerdictJump && v.Chain == chain {
				return r
			}
		}
	}
	return nil
}

func retarget(exprs []expr.Any, from, to string) []expr.Any {
	out := make([]expr.Any, len(exprs))
	for i, e := range exprs {
		if v, ok := e.(*expr.Verdict); ok && v.Chain == from {
			e = &expr.Verdict{Kind: v.Kind, Chain: to}
		}
		out[i] = e
	}
	return out
}

func (p *iptablesProxier) Describe(ctx context.Context, w io.Writer) error {
	rules, err := p.ipt.ListRules(ctx, iptables.IPv4, "nat", "")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "*nat  (read back by nfkit, printed like iptables-save)")
	for _, r := range rules {
		fmt.Fprintln(w, strings.TrimSpace(r.String()))
	}
	fmt.Fprintln(w, "COMMIT")
	return nil
}
