package iptables

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestOpsDifferential runs the same commands through nfkit's operations
// and through iptables-nft in two namespaces and compares
// iptables-nft-save and nfkit's Save after each, both families.
func TestOpsDifferential(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft")
	for _, f := range []Family{IPv4, IPv6} {
		tool, save := "iptables-nft", "iptables-nft-save"
		a1, a2, a3 := "192.0.2.1/32", "198.51.100.0/24", "203.0.113.7/32"
		if f == IPv6 {
			tool, save = "ip6tables-nft", "ip6tables-nft-save"
			a1, a2, a3 = "2001:db8::1/128", "2001:db8:1::/64", "2001:db8:2::7/128"
		}
		nsK, nsC := nstest.New(t), nstest.New(t)
		c := dialNS(t, nsK)
		ctx := context.Background()
		rule := func(spec string) *Rule {
			t.Helper()
			r, err := ParseRule(f, spec)
			if err != nil {
				t.Fatal(err)
			}
			if r.Table == "" {
				r.Table = "filter"
			}
			return r
		}
		steps := []struct {
			cli string
			do  func() error
		}{
			{"-N MYCHAIN", func() error { b := NewBatch(); b.NewChain(f, "filter", "MYCHAIN"); return c.Commit(ctx, b) }},
			{"-A INPUT -s " + a1 + " -j ACCEPT", func() error { return c.Append(ctx, f, rule("-A INPUT -s "+a1+" -j ACCEPT")) }},
			{"-A INPUT -s " + a2 + " -p tcp --dport 22 -j DROP", func() error { return c.Append(ctx, f, rule("-A INPUT -s "+a2+" -p tcp --dport 22 -j DROP")) }},
			{"-I INPUT -j MYCHAIN", func() error { return c.Insert(ctx, f, rule("-A INPUT -j MYCHAIN"), 0) }},
			{"-I INPUT 3 -s " + a3 + " -j RETURN", func() error { return c.Insert(ctx, f, rule("-A INPUT -s "+a3+" -j RETURN"), 3) }},
			{"-I INPUT 5 -m comment --comment last -j ACCEPT", func() error {
				return c.Insert(ctx, f, rule("-A INPUT -m comment --comment last -j ACCEPT"), 5)
			}},
			{"-R INPUT 2 -s " + a1 + " -j DROP", func() error { return c.Replace(ctx, f, rule("-A INPUT -s "+a1+" -j DROP"), 2) }},
			{"-D INPUT -s " + a3 + " -j RETURN", func() error { return c.Delete(ctx, f, rule("-A INPUT -s "+a3+" -j RETURN")) }},
			{"-D INPUT 1", func() error { return c.DeleteNum(ctx, f, "filter", "INPUT", 1) }},
			{"-A MYCHAIN -j LOG --log-prefix x", func() error { return c.Append(ctx, f, rule("-A MYCHAIN -j LOG --log-prefix x")) }},
			{"-P FORWARD DROP", func() error { b := NewBatch(); b.SetPolicy(f, "filter", "FORWARD", "DROP"); return c.Commit(ctx, b) }},
			{"-A FORWARD -j ACCEPT", func() error { return c.Append(ctx, f, rule("-A FORWARD -j ACCEPT")) }},
			{"-E MYCHAIN RENAMED", func() error { return c.RenameChain(ctx, f, "filter", "MYCHAIN", "RENAMED") }},
			{"-F RENAMED", func() error { b := NewBatch(); b.FlushChain(f, "filter", "RENAMED"); return c.Commit(ctx, b) }},
			{"-N EMPTY", func() error { b := NewBatch(); b.NewChain(f, "filter", "EMPTY"); return c.Commit(ctx, b) }},
			{"-X EMPTY", func() error { b := NewBatch(); b.DeleteChain(f, "filter", "EMPTY"); return c.Commit(ctx, b) }},
			{"-t nat -N N1", func() error { b := NewBatch(); b.NewChain(f, "nat", "N1"); return c.Commit(ctx, b) }},
			{"-t nat -N N2", func() error { b := NewBatch(); b.NewChain(f, "nat", "N2"); return c.Commit(ctx, b) }},
			{"-t nat -X", func() error { return c.DeleteUserChains(ctx, f, "nat") }},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%v %s: %v", f, s.cli, err)
			}
			nsC.Run(t, "sh", "-c", tool+" "+s.cli)
			want := stripSaveComments(cliStdout(t, nsC, save, "-c"))
			if got := stripSaveComments(cliStdout(t, nsK, save, "-c")); got != want {
				t.Fatalf("%v after %s: %s differs:\n%s", f, s.cli, save, lineDiff(got, want))
			}
			if got := stripSaveComments(saveString(t, c, f, "", true)); got != want {
				t.Fatalf("%v after %s: Save differs:\n%s", f, s.cli, lineDiff(got, want))
			}
		}
		// -C: present and absent.
		if ok, err := c.Exists(ctx, f, rule("-A INPUT -s "+a1+" -j DROP")); err != nil || !ok {
			t.Errorf("%v Exists of a present rule: %v %v", f, ok, err)
		}
		if _, err := nsC.Exec("sh", "-c", tool+" -C INPUT -s "+a1+" -j DROP"); err != nil {
			t.Errorf("%v iptables -C disagrees: %v", f, err)
		}
		if ok, err := c.Exists(ctx, f, rule("-A INPUT -s "+a3+" -j DROP")); err != nil || ok {
			t.Errorf("%v Exists of an absent rule: %v %v", f, ok, err)
		}
		if err := c.Delete(ctx, f, rule("-A INPUT -s "+a3+" -j DROP")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v Delete of an absent rule: %v", f, err)
		}
		if err := c.DeleteNum(ctx, f, "filter", "INPUT", 99); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v DeleteNum 99: %v", f, err)
		}
		if err := c.Insert(ctx, f, rule("-A INPUT -j DROP"), 99); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v Insert at 99: %v", f, err)
		}
		chains, err := c.ListChains(ctx, f, "filter")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ch := range chains {
			names = append(names, ch.Name+" "+ch.Policy)
		}
		if got := strings.Join(names, ","); got != "INPUT ACCEPT,FORWARD DROP,OUTPUT ACCEPT,RENAMED -" {
			t.Errorf("%v ListChains: %s", f, got)
		}
	}
}
