package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/iptables"
	"github.com/nfkit/nfkit/ipvs"
)

// ipvsProxier is kube-proxy's IPVS mode:
//
//   - a dummy interface kube-ipvs0 holds every service VIP as a /32, so
//     the node accepts traffic for it and IPVS (which works in LOCAL_IN)
//     sees it;
//   - one IPVS virtual service per service (round robin) with its
//     endpoints as masquerading (NAT) real servers;
//   - ipsets KUBE-CLUSTER-IP (hash:ip,port: every VIP:port) and
//     KUBE-LOOP-BACK (hash:ip,port,ip: endpoint IP, port, endpoint IP
//     again: the hairpin case of a backend sent to itself);
//   - iptables nat rules that use them: KUBE-SERVICES accepts cluster IP
//     traffic (no DNAT: IPVS does that), KUBE-POSTROUTING masquerades
//     what matches KUBE-LOOP-BACK dst,dst,src, so a hairpinned packet no
//     longer carries the backend's own address as its source;
//   - net.ipv4.vs.conntrack=1, without which IPVS traffic has no
//     netfilter conntrack entry and cannot be masqueraded.
//
// IPVS and ipset have no transactions: an update is ordered so traffic
// always has somewhere valid to go (VIP addresses and set entries added
// first, then ipvs.Apply with rollback, then stale set entries and
// addresses removed), and the iptables rules are written once, in one
// nf_tables transaction, because they do not depend on the endpoints.
type ipvsProxier struct {
	node *nstest.NS
	ipvs *ipvs.Conn
	sets *ipset.Conn
	ipt  *iptables.Conn

	// faultIPVS, set only by a test, edits the desired IPVS state just
	// before Apply so that the kernel refuses part of it.
	faultIPVS func([]ipvs.Service)

	started  bool
	vips     map[netip.Addr]bool // addresses on kube-ipvs0
	clusterE map[setKey]bool
	loopE    map[setKey]bool
	log      []string // what the last Sync did, printed by Describe
}

const (
	ipvsDummy    = "kube-ipvs0"
	setClusterIP = "KUBE-CLUSTER-IP"
	setLoopBack  = "KUBE-LOOP-BACK"
)

func newIPVSProxier(node *nstest.NS) (proxier, error) {
	vc, err := ipvs.Dial(&ipvs.Config{NetNS: node.FD()})
	if err != nil {
		return nil, err
	}
	sc, err := ipset.Dial(&ipset.Config{NetNS: node.FD()})
	if err != nil {
		vc.Close()
		return nil, err
	}
	ic, err := iptables.Dial(&iptables.Config{NetNS: node.FD()})
	if err != nil {
		vc.Close()
		sc.Close()
		return nil, err
	}
	return &ipvsProxier{node: node, ipvs: vc, sets: sc, ipt: ic, vips: map[netip.Addr]bool{},
		clusterE: map[setKey]bool{}, loopE: map[setKey]bool{}}, nil
}

func (p *ipvsProxier) Close() error {
	return errors.Join(p.ipvs.Close(), p.sets.Close(), p.ipt.Close())
}

// ipvsSysctls are what kube-proxy sets for IPVS mode in the node's
// namespace (they are per namespace, and exist once ip_vs is loaded).
var ipvsSysctls = [][2]string{
	{"net.ipv4.ip_forward", "1"},
	{"net.ipv4.vs.conntrack", "1"},          // conntrack entries for IPVS traffic, so it can be masqueraded
	{"net.ipv4.vs.expire_nodest_conn", "1"}, // drop connections to a removed real server at once
}

// ipvsRules are the fixed iptables rules, as iptables-restore input; %s
// marks where a `-m set` match goes (the iptables package has no typed set
// match yet, see netlab.SetMatch).
var ipvsRules = []struct {
	rule    string
	set     string
	setDirs []string
}{
	{rule: `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
	{rule: `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
	{rule: `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`},
	{rule: `-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000`},
	{rule: `-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" %s -j MASQUERADE`,
		set: setLoopBack, setDirs: []string{"dst", "dst", "src"}},
	{rule: `-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`},
	{rule: `-A KUBE-POSTROUTING -j MARK --set-xmark 0x0/0x4000`},
	{rule: `-A KUBE-POSTROUTING -j MASQUERADE --random-fully`},
	{rule: `-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" %s -j ACCEPT`,
		set: setClusterIP, setDirs: []string{"dst", "dst"}},
}

// setup does what does not depend on the services, once.
func (p *ipvsProxier) setup(ctx context.Context) error {
	for _, kv := range ipvsSysctls {
		if err := netlab.Sysctl(p.node, kv[0], kv[1]); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", kv[0], kv[1], err)
		}
	}
	// Left down, as kube-proxy leaves it: its addresses are local anyway
	// (their local routes exist whatever the link state), and nothing is
	// ever routed out of it.
	if err := netlab.IP(p.node, "link", "add", ipvsDummy, "type", "dummy"); err != nil {
		return err
	}
	b := ipset.NewBatch()
	b.CreateExist(ipset.Set{Name: setClusterIP, Type: ipset.HashIPPort, Family: ipset.FamilyInet})
	b.CreateExist(ipset.Set{Name: setLoopBack, Type: ipset.HashIPPortIP, Family: ipset.FamilyInet})
	if err := p.sets.Commit(ctx, b); err != nil {
		return err
	}
	rb := iptables.NewBatch()
	for _, c := range []string{"KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"} {
		if err := rb.NewChain(iptables.IPv4, "nat", c); err != nil {
			return err
		}
	}
	for _, r := range ipvsRules {
		text := r.rule
		var set iptables.Match
		if r.set != "" {
			// Parse without the set match, then put it where %s was:
			// after the comment, as iptables-nft orders matches.
			text = strings.Replace(text, " %s", "", 1)
			idx, err := netlab.SetIndex(p.node, r.set)
			if err != nil {
				return err
			}
			if set, err = netlab.SetMatch(idx, false, r.setDirs...); err != nil {
				return err
			}
		}
		rule, err := iptables.ParseRule(iptables.IPv4, "-t nat "+text)
		if err != nil {
			return fmt.Errorf("%s: %w", text, err)
		}
		if set != nil {
			rule.Matches = append(rule.Matches, set)
		}
		if err := rb.Append(iptables.IPv4, rule); err != nil {
			return err
		}
	}
	return p.ipt.Commit(ctx, rb)
}

// setKey is a TCP set entry as a comparable value (ipset.Entry holds a
// MAC slice, so it cannot key a map).
type setKey struct {
	Addr  netip.Addr
	Port  uint16
	Addr2 netip.Addr // invalid for hash:ip,port
}

func (k setKey) entry() ipset.Entry {
	return ipset.Entry{Addr: k.Addr, Proto: unix.IPPROTO_TCP, Port: k.Port, Addr2: k.Addr2}
}

func entries(keys []setKey) []ipset.Entry {
	out := make([]ipset.Entry, len(keys))
	for i, k := range keys {
		out[i] = k.entry()
	}
	return out
}

func clusterEntry(s Service) setKey { return setKey{Addr: s.VIP, Port: s.Port} }

func loopEntry(ep netip.AddrPort) setKey {
	return setKey{Addr: ep.Addr(), Port: ep.Port(), Addr2: ep.Addr()}
}

func virtualService(s Service) ipvs.Service {
	vs := ipvs.Service{
		ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: s.VIP, Port: s.Port},
		Scheduler:  ipvs.RoundRobin,
	}
	for _, ep := range s.Endpoints {
		vs.Destinations = append(vs.Destinations, ipvs.Destination{
			DestinationKey: ipvs.DestinationKey{Addr: ep.Addr(), Port: ep.Port()},
			Forward:        ipvs.Masquerade, Weight: 1})
	}
	return vs
}

// diff returns the entries of want missing from have, and of have missing
// from want.
func diff(have, want map[setKey]bool) (add, del []setKey) {
	for e := range want {
		if !have[e] {
			add = append(add, e)
		}
	}
	for e := range have {
		if !want[e] {
			del = append(del, e)
		}
	}
	return add, del
}

func (p *ipvsProxier) Sync(ctx context.Context, services []Service) error {
	p.log = p.log[:0]
	if !p.started {
		if err := p.setup(ctx); err != nil {
			return err
		}
		p.started = true
		p.log = append(p.log, "created kube-ipvs0, ipsets KUBE-CLUSTER-IP and KUBE-LOOP-BACK, iptables nat rules (one transaction)")
	}
	wantVIP := map[netip.Addr]bool{}
	wantCluster := map[setKey]bool{}
	wantLoop := map[setKey]bool{}
	var desired []ipvs.Service
	for _, s := range services {
		wantVIP[s.VIP] = true
		wantCluster[clusterEntry(s)] = true
		for _, ep := range s.Endpoints {
			wantLoop[loopEntry(ep)] = true
		}
		desired = append(desired, virtualService(s))
	}

	// Steps 1 and 2 are undone if step 3 fails, so a failed Sync leaves
	// the node as it was.
	var newVIPs []netip.Addr
	addC, delC := diff(p.clusterE, wantCluster)
	addL, delL := diff(p.loopE, wantLoop)
	undo := func(cause error) error {
		b := ipset.NewBatch()
		b.DeleteExist(setClusterIP, entries(addC)...)
		b.DeleteExist(setLoopBack, entries(addL)...)
		errs := []error{cause, p.sets.Commit(ctx, b)}
		for _, e := range addC {
			delete(p.clusterE, e)
		}
		for _, e := range addL {
			delete(p.loopE, e)
		}
		for _, vip := range newVIPs {
			errs = append(errs, netlab.IP(p.node, "addr", "del", netip.PrefixFrom(vip, 32).String(), "dev", ipvsDummy))
			delete(p.vips, vip)
		}
		return errors.Join(errs...)
	}

	// 1. New VIPs on the dummy interface.
	for vip := range wantVIP {
		if !p.vips[vip] {
			if err := netlab.IP(p.node, "addr", "add", netip.PrefixFrom(vip, 32).String(), "dev", ipvsDummy); err != nil {
				return undo(err)
			}
			p.vips[vip] = true
			newVIPs = append(newVIPs, vip)
			p.log = append(p.log, "ip addr add "+vip.String()+"/32 dev "+ipvsDummy)
		}
	}
	// 2. New set entries, before IPVS can send traffic that needs them.
	if len(addC)+len(addL) > 0 {
		b := ipset.NewBatch()
		b.AddExist(setClusterIP, entries(addC)...)
		b.AddExist(setLoopBack, entries(addL)...)
		for _, e := range addC {
			p.clusterE[e] = true
		}
		for _, e := range addL {
			p.loopE[e] = true
		}
		if err := p.sets.Commit(ctx, b); err != nil {
			return undo(err)
		}
		p.log = append(p.log, fmt.Sprintf("ipset: added %d entries (KUBE-CLUSTER-IP %d, KUBE-LOOP-BACK %d)", len(addC)+len(addL), len(addC), len(addL)))
	}
	// 3. IPVS: one pipelined Apply of the difference. Not atomic (the
	// kernel has no IPVS transactions): on a failure Apply undoes what it
	// applied, and undo removes the VIPs and set entries added above.
	if p.faultIPVS != nil {
		p.faultIPVS(desired)
	}
	changes, err := p.ipvs.Apply(ctx, desired, &ipvs.ApplyOptions{
		Rollback: true,
		Manage:   func(k ipvs.ServiceKey) bool { return vipRange.Contains(k.Addr) },
	})
	if err != nil {
		return undo(fmt.Errorf("ipvs apply (not atomic: rolled back): %w", err))
	}
	p.log = append(p.log, fmt.Sprintf("ipvs: %d changes, pipelined in order, NOT atomic (IPVS has no transactions; rollback on failure):", len(changes)))
	for _, ch := range changes {
		p.log = append(p.log, "  "+ch.String())
	}
	// 4. Stale set entries, now that IPVS no longer uses them.
	if len(delC)+len(delL) > 0 {
		b := ipset.NewBatch()
		b.DeleteExist(setClusterIP, entries(delC)...)
		b.DeleteExist(setLoopBack, entries(delL)...)
		if err := p.sets.Commit(ctx, b); err != nil {
			return err
		}
		for _, e := range delC {
			delete(p.clusterE, e)
		}
		for _, e := range delL {
			delete(p.loopE, e)
		}
		p.log = append(p.log, fmt.Sprintf("ipset: deleted %d entries (KUBE-CLUSTER-IP %d, KUBE-LOOP-BACK %d)", len(delC)+len(delL), len(delC), len(delL)))
	}
	// 5. Stale VIPs.
	for vip := range p.vips {
		if !wantVIP[vip] {
			if err := netlab.IP(p.node, "addr", "del", netip.PrefixFrom(vip, 32).String(), "dev", ipvsDummy); err != nil {
				return err
			}
			delete(p.vips, vip)
			p.log = append(p.log, "ip addr del "+vip.String()+"/32 dev "+ipvsDummy)
		}
	}
	return nil
}

func (p *ipvsProxier) Describe(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "# what this sync did")
	for _, l := range p.log {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "# IPVS (read back by nfkit, printed like ipvsadm -Sn)")
	svcs, err := p.ipvs.ListServices(ctx)
	if err != nil {
		return err
	}
	if err := ipvs.Save(w, svcs); err != nil {
		return err
	}
	fmt.Fprintln(w, "# ipsets (read back by nfkit, printed like ipset save)")
	for _, name := range []string{setClusterIP, setLoopBack} {
		if err := p.sets.Save(ctx, w, name); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "# iptables nat (read back by nfkit, printed like iptables-save)")
	rules, err := p.ipt.ListRules(ctx, iptables.IPv4, "nat", "")
	if err != nil {
		return err
	}
	for _, r := range rules {
		fmt.Fprintln(w, ruleText(p.node, r))
	}
	fmt.Fprintln(w, "# addresses on "+ipvsDummy)
	vips := make([]netip.Addr, 0, len(p.vips))
	for v := range p.vips {
		vips = append(vips, v)
	}
	slices.SortFunc(vips, netip.Addr.Compare)
	for _, v := range vips {
		fmt.Fprintf(w, "inet %s/32\n", v)
	}
	return nil
}

// ruleText prints a rule like iptables-save, with set matches shown as
// `-m set --match-set NAME DIRS` (the iptables package prints an
// extension it has no type for as --xt-rev/--xt-info).
func ruleText(ns *nstest.NS, r *iptables.Rule) string {
	text := strings.TrimSpace(r.String())
	for _, m := range r.Matches {
		nice, ok := netlab.SetMatchText(ns, m)
		if !ok {
			continue
		}
		raw := &iptables.Rule{Family: r.Family, Table: r.Table, Chain: r.Chain, Matches: []iptables.Match{m}}
		_, rawText, found := strings.Cut(strings.TrimSpace(raw.String()), " "+r.Chain+" ")
		if found {
			text = strings.Replace(text, rawText, nice, 1)
		}
	}
	return text
}
