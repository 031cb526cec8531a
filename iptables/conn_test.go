package iptables

import (
	"context"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestDifferentialWrite writes every parseable fixture case with nfkit in
// a fresh namespace and checks iptables-nft-save prints the line
// iptables-nft -A printed for the same arguments; then lists the rules
// back with nfkit and checks they print the same.
func TestDifferentialWrite(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-save")
	ns := nstest.New(t)
	// The sets the fixture rules name (-m set, -j SET), in the capture's
	// order.
	ns.Run(t, "ipset", "create", "myset", "hash:ip")
	ns.Run(t, "ipset", "create", "myset6", "hash:ip", "family", "inet6")
	ns.Run(t, "ipset", "create", "KUBE-ROUTER", "hash:ip,port")
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	type key struct {
		f            Family
		table, chain string
	}
	want := map[key][]string{}
	b := NewBatch()
	made := map[key]bool{}
	for _, fx := range loadFixtures(t) {
		if fx.Err != "" {
			continue
		}
		fam, table, chain, args := splitCase(fx.Case)
		f := caseFamily(fam)
		r, err := ParseRule(f, args)
		if err != nil {
			continue // not supported yet, counted by TestFixtures
		}
		r.Table, r.Chain = table, chain
		if builtins[table][chain] == (builtin{}) && !made[key{f, table, chain}] {
			made[key{f, table, chain}] = true
			if err := b.NewChain(f, table, chain); err != nil {
				t.Fatal(err)
			}
		}
		for _, tgt := range []string{"MYCHAIN", "KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SEP-AAAA", "KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL", "DOCKER", "CNI-abc"} {
			if j, ok := r.Target.(*Jump); ok && j.Chain == tgt && !made[key{f, table, tgt}] {
				made[key{f, table, tgt}] = true
				if err := b.NewChain(f, table, tgt); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := b.Append(f, r); err != nil {
			t.Fatalf("%s: %v", fx.Case, err)
		}
		k := key{f, table, chain}
		want[k] = append(want[k], fx.Save)
	}
	if err := c.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []struct {
		f    Family
		save string
	}{{IPv4, "iptables-nft-save"}, {IPv6, "ip6tables-nft-save"}} {
		for table := range builtins {
			out := ns.Run(t, tool.save, "-t", table)
			got := map[string][]string{}
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "-A ") {
					ch := strings.Fields(l)[1]
					got[ch] = append(got[ch], l)
				}
			}
			for k, lines := range want {
				if k.f != tool.f || k.table != table {
					continue
				}
				if strings.Join(got[k.chain], "\n") != strings.Join(lines, "\n") {
					t.Errorf("%s -t %s chain %s:\n got:\n%s\nwant:\n%s", tool.save, table, k.chain,
						strings.Join(got[k.chain], "\n"), strings.Join(lines, "\n"))
				}
				rules, err := c.ListRules(ctx, k.f, k.table, k.chain)
				if err != nil {
					t.Errorf("list %v: %v", k, err)
					continue
				}
				var printed []string
				for _, r := range rules {
					printed = append(printed, r.String())
				}
				if strings.Join(printed, "\n") != strings.Join(lines, "\n") {
					t.Errorf("nfkit list %v:\n got:\n%s\nwant:\n%s", k, strings.Join(printed, "\n"), strings.Join(lines, "\n"))
				}
			}
		}
	}
}
