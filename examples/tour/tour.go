package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"time"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/iptables"
	"github.com/nfkit/nfkit/ipvs"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

type options struct {
	// CLI also runs the system tools inside the namespace, when installed,
	// to show they read back what nfkit wrote.
	CLI bool

	// inspect, when set (by the test), runs before the cleanup with the
	// namespace still in place.
	inspect func(ns *nstest.NS) error
	// cleaned, when set, runs after the cleanup, before the namespace goes.
	cleaned func(ns *nstest.NS) error
}

const (
	tableName = "tour"
	setName   = "tour-blocklist" // the ipset
	port      = 8080
)

// The tour's addresses: loopback for the real traffic, documentation
// ranges for everything else.
var (
	server  = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	allowed = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.1")}
)

func run(ctx context.Context, out io.Writer, opts options) (err error) {
	var lab netlab.Lab
	defer func() {
		if cerr := lab.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ns, err := lab.NS("nfkit-tour")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# nfkit tour, in the throwaway network namespace %s\n", ns.Name)
	t := &tour{out: out, ns: ns, cli: opts.CLI}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"nf_tables", t.nftables},
		{"atomic batch", t.atomic},
		{"iptables", t.iptables},
		{"ipset", t.ipset},
		{"traffic", t.traffic},
		{"conntrack", t.conntrack},
		{"IPVS", t.ipvs},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if opts.inspect != nil {
		if err := opts.inspect(ns); err != nil {
			return err
		}
	}
	if err := t.cleanup(ctx); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	if opts.cleaned != nil {
		if err := opts.cleaned(ns); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\n# removing namespace %s\n", ns.Name)
	return nil
}

type tour struct {
	out     io.Writer
	ns      *nstest.NS
	cli     bool
	skipped []string
}

func (t *tour) section(title string) { fmt.Fprintf(t.out, "\n== %s ==\n", title) }

// tool shows what a system tool prints inside the namespace, clearly
// labelled: the library never execs anything, the tour does it only to show
// the tools agree.
func (t *tour) tool(name string, args ...string) {
	if !t.cli {
		return
	}
	if !netlab.Have(name) {
		t.skipped = append(t.skipped, name+" (not installed)")
		return
	}
	out, err := t.ns.Exec(name, args...)
	fmt.Fprintf(t.out, "-- system tool, for comparison: %s %s --\n%s", name, strings.Join(args, " "), out)
	if err != nil {
		fmt.Fprintf(t.out, "(%s failed: %v)\n", name, err)
	}
}

// nftables creates `table inet tour` with a set of allowed addresses and a
// rule `ip saddr @allowed tcp dport 8080 counter accept`, in one batch.
func (t *tour) nftables(ctx context.Context) error {
	t.section("nf_tables: a table, a set and a counter rule, in one transaction")
	c, err := nft.Dial(&nft.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	table := &nft.Table{Family: nft.FamilyINet, Name: tableName, Comment: "nfkit tour"}
	set := &nft.Set{Family: nft.FamilyINet, Table: tableName, Name: "allowed", KeyType: []nft.DataType{nft.TypeIPv4Addr}}
	input := &nft.Chain{Family: nft.FamilyINet, Table: tableName, Name: "input",
		Type: nft.ChainTypeFilter, Hook: nft.HookInput, Priority: 0, Policy: nft.PolicyAccept}
	b := c.NewBatch()
	b.AddTable(table)
	b.AddSet(set)
	var elems []nft.Element
	for _, a := range allowed {
		elems = append(elems, nft.Element{Key: a})
	}
	b.AddElements(set, elems...)
	b.AddChain(input)
	b.AddRule(&nft.Rule{Family: nft.FamilyINet, Table: tableName, Chain: "input",
		Comment: "allowed clients of the demo server",
		Exprs: []expr.Any{
			// ip saddr @allowed (an inet table sees IPv6 too: check nfproto first)
			&expr.Meta{Key: expr.MetaNfproto, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{2}}, // NFPROTO_IPV4
			&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
			&expr.Lookup{Set: set.Name, SetID: set.ID, SourceRegister: expr.Reg1},
			// tcp dport 8080
			&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
			&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{port >> 8, port & 0xff}},
			&expr.Counter{},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}})
	if err := b.Commit(ctx); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "committed %d operations as one transaction; table handle %d\n", b.Len(), table.Handle)
	return nil
}

// atomic sends a batch whose last rule jumps to a chain that does not
// exist: the kernel refuses it, and the table and chain created earlier in
// the same batch are not there either.
func (t *tour) atomic(ctx context.Context) error {
	t.section("a failed batch leaves nothing behind")
	c, err := nft.Dial(&nft.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.NewBatch()
	b.AddTable(&nft.Table{Family: nft.FamilyINet, Name: "tour_broken"})
	b.AddChain(&nft.Chain{Family: nft.FamilyINet, Table: "tour_broken", Name: "c"})
	b.AddRule(&nft.Rule{Family: nft.FamilyINet, Table: "tour_broken", Chain: "c",
		Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "does-not-exist"}}})
	cerr := b.Commit(ctx)
	if cerr == nil {
		return errors.New("a jump to a missing chain was accepted")
	}
	var nerr *nft.Error
	if errors.As(cerr, &nerr) {
		fmt.Fprintf(t.out, "commit refused: operation %d of %d failed: %v\n", nerr.Index, b.Len(), cerr)
	} else {
		fmt.Fprintf(t.out, "commit refused: %v\n", cerr)
	}
	_, gerr := c.GetTable(ctx, nft.FamilyINet, "tour_broken")
	if !errors.Is(gerr, fs.ErrNotExist) {
		return fmt.Errorf("table tour_broken after the failed batch: %v (want: does not exist)", gerr)
	}
	fmt.Fprintln(t.out, "table inet tour_broken does not exist: the table and chain of the batch were rolled back with it")
	return nil
}

// iptablesRules are written through the iptables package, exactly as
// iptables-nft writes them, in one transaction.
var iptablesRules = []string{
	"-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"ssh from anywhere\" -j ACCEPT",
	"-A INPUT -s 198.51.100.0/24 -j DROP",
	"-t nat -A POSTROUTING -s 192.0.2.0/24 -o eth0 -j MASQUERADE",
}

func (t *tour) iptables(ctx context.Context) error {
	t.section("iptables (nf_tables backend, as iptables-nft writes it)")
	c, err := iptables.Dial(&iptables.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	b := iptables.NewBatch()
	for _, spec := range iptablesRules {
		r, err := iptables.ParseRule(iptables.IPv4, spec)
		if err != nil {
			return err
		}
		if err := b.Append(iptables.IPv4, r); err != nil {
			return err
		}
	}
	if err := c.Commit(ctx, b); err != nil {
		return err
	}
	fmt.Fprintln(t.out, "read back by nfkit, printed like iptables-save:")
	for _, table := range []string{"filter", "nat"} {
		rules, err := c.ListRules(ctx, iptables.IPv4, table, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(t.out, "*%s\n", table)
		for _, r := range rules {
			fmt.Fprintln(t.out, r.String())
		}
		fmt.Fprintln(t.out, "COMMIT")
	}
	t.tool("iptables-nft-save")
	return nil
}

func (t *tour) ipset(ctx context.Context) error {
	t.section("ipset")
	c, err := ipset.Dial(&ipset.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	s := ipset.Set{Name: setName, Type: ipset.HashNet, Family: ipset.FamilyInet, Comment: true}
	entries := []ipset.Entry{
		{Prefix: netip.MustParsePrefix("192.0.2.128/25"), Comment: "half of TEST-NET-1"},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Comment: "TEST-NET-2"},
		{Prefix: netip.MustParsePrefix("203.0.113.7/32"), Comment: "one host"},
	}
	// ReplaceSet fills a temporary set and swaps it in: atomic for packets.
	if err := c.ReplaceSet(ctx, s, entries); err != nil {
		return err
	}
	hit, err := c.Test(ctx, setName, ipset.Entry{Addr: netip.MustParseAddr("198.51.100.42")})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "ipset test %s 198.51.100.42: %v\n", setName, hit)
	fmt.Fprintln(t.out, "read back by nfkit, printed like ipset save:")
	if err := c.Save(ctx, t.out, setName); err != nil {
		return err
	}
	t.tool("ipset", "save")
	return nil
}

// traffic runs a small server in the namespace and connects to it over
// loopback, so the counter rule and conntrack have something to show.
func (t *tour) traffic(ctx context.Context) error {
	t.section("real traffic: 3 connections to 127.0.0.1:8080 inside the namespace")
	var lab netlab.Lab
	defer lab.Close()
	if err := lab.Serve(t.ns, server, "tour-server"); err != nil {
		return err
	}
	for i := range 3 {
		got, err := netlab.Ask(ctx, t.ns, server, 2*time.Second)
		if err != nil {
			return err
		}
		fmt.Fprintf(t.out, "connection %d answered by %s\n", i+1, got)
	}
	c, err := nft.Dial(&nft.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintln(t.out, "read back by nfkit, laid out like nft list table (expressions as nft --debug=netlink shows them):")
	if err := netlab.PrintTable(ctx, t.out, c, nft.FamilyINet, tableName); err != nil {
		return err
	}
	t.tool("nft", "list", "table", "inet", tableName)
	return nil
}

func (t *tour) conntrack(ctx context.Context) error {
	t.section("conntrack")
	c, err := conntrack.Dial(&conntrack.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()
	// A flow nobody sent packets for, created like `conntrack -I`.
	made := conntrack.Flow{
		Origin: conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("203.0.113.5"),
			Proto: conntrack.ProtoTCP, SrcPort: 40000, DstPort: 443},
		Timeout: 300,
		TCP:     &conntrack.TCPInfo{State: conntrack.TCPEstablished},
	}
	if err := c.Create(ctx, made); err != nil {
		return err
	}
	flows, err := c.List(ctx, conntrack.Filter{Family: conntrack.IPv4})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%d flows (3 from the loopback connections, 1 created):\n", len(flows))
	for _, f := range flows {
		fmt.Fprintln(t.out, f.String())
	}
	t.tool("conntrack", "-L")
	n, err := c.DeleteMatching(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: made.Origin.Dst}})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "deleted %d flow(s) to %s, like conntrack -D -d %s\n", n, made.Origin.Dst, made.Origin.Dst)
	return nil
}

func (t *tour) ipvs(ctx context.Context) error {
	t.section("IPVS")
	c, err := ipvs.Dial(&ipvs.Config{NetNS: t.ns.FD()})
	if errors.Is(err, ipvs.ErrNotSupported) {
		fmt.Fprintf(t.out, "skipped IPVS: %v\n", err)
		t.skipped = append(t.skipped, "IPVS (this kernel has no ip_vs)")
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	vip := netip.MustParseAddr("203.0.113.80")
	svc := ipvs.Service{
		ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: vip, Port: 80},
		Scheduler:  ipvs.RoundRobin,
		Destinations: []ipvs.Destination{
			{DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.11"), Port: 8080}, Forward: ipvs.Masquerade, Weight: 1},
			{DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.12"), Port: 8080}, Forward: ipvs.Masquerade, Weight: 1},
		},
	}
	changes, err := c.Apply(ctx, []ipvs.Service{svc}, &ipvs.ApplyOptions{Rollback: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "applied %d changes\n", len(changes))
	services, err := c.ListServices(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(t.out, "read back by nfkit, printed like ipvsadm -Sn:")
	if err := ipvs.Save(t.out, services); err != nil {
		return err
	}
	t.tool("ipvsadm", "-Ln")
	return nil
}

// cleanup removes everything the tour made, through nfkit, and shows the
// namespace is empty again (the namespace itself goes afterwards).
func (t *tour) cleanup(ctx context.Context) error {
	t.section("cleanup")
	nc, err := nft.Dial(&nft.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer nc.Close()
	// The iptables package has no delete/flush yet; iptables-nft's tables
	// are nf_tables tables, so one nft batch removes them with ours.
	b := nc.NewBatch()
	b.DeleteTable(&nft.Table{Family: nft.FamilyINet, Name: tableName})
	b.DeleteTable(&nft.Table{Family: nft.FamilyIPv4, Name: "filter"})
	b.DeleteTable(&nft.Table{Family: nft.FamilyIPv4, Name: "nat"})
	if err := b.Commit(ctx); err != nil {
		return err
	}
	sc, err := ipset.Dial(&ipset.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer sc.Close()
	if err := sc.Destroy(ctx, setName); err != nil {
		return err
	}
	cc, err := conntrack.Dial(&conntrack.Config{NetNS: t.ns.FD()})
	if err != nil {
		return err
	}
	defer cc.Close()
	if _, err := cc.Flush(ctx, conntrack.FamilyAny); err != nil {
		return err
	}
	if vc, err := ipvs.Dial(&ipvs.Config{NetNS: t.ns.FD()}); err == nil {
		err = vc.Flush(ctx)
		vc.Close()
		if err != nil {
			return err
		}
	}
	tables, err := nc.ListTables(ctx, nft.FamilyUnspec)
	if err != nil {
		return err
	}
	sets, err := sc.ListSets(ctx, ipset.ListOptions{})
	if err != nil {
		return err
	}
	flows, err := cc.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "left: %d nf_tables tables, %d ipsets, %d conntrack flows\n", len(tables), len(sets), flows)
	if len(t.skipped) > 0 {
		fmt.Fprintf(t.out, "skipped: %s\n", strings.Join(t.skipped, "; "))
	}
	return nil
}
