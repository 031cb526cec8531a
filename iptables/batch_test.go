package iptables

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// mixRestore uses every kind of operation an iptables batch has: a
// policy with counters, a user chain, appends, an insert before a rule of
// the same batch (rule ids), a delete of a rule of the same batch, a
// flush and a rename of a chain that existed before.
const mixRestore = `*filter
:INPUT DROP [5:10]
:FOO - [0:0]
-A INPUT -j FOO
-A FOO -p tcp -j ACCEPT
-A FOO -p udp -j ACCEPT
-I FOO 2 -p sctp -j ACCEPT
-A FOO -p icmp -j DROP
-D FOO -p icmp -j DROP
-F OLD2
-E OLD NEW
COMMIT
`

// TestAppendToMixed commits an iptables restore and native nf_tables
// objects in ONE nft.Batch: iptables-nft-save then prints what
// iptables-nft-restore gives for the same input, and nft lists the
// native rules in the order their own rule ids asked for (the caller's
// ids do not collide with the iptables batch's).
func TestAppendToMixed(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-restore")
	nsK, nsC := nstest.New(t), nstest.New(t)
	for _, ns := range []*nstest.NS{nsK, nsC} {
		ns.Run(t, "iptables-nft", "-N", "OLD")
		ns.Run(t, "iptables-nft", "-N", "OLD2")
		ns.Run(t, "iptables-nft", "-A", "OLD2", "-j", "DROP")
	}
	ctx := context.Background()
	c := dialNS(t, nsK)
	n, err := nft.Dial(&nft.Config{NetNS: nsK.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ib, err := c.PlanRestore(ctx, strings.NewReader(mixRestore), IPv4, &RestoreOptions{NoFlush: true, Counters: true})
	if err != nil {
		t.Fatal(err)
	}
	nb := n.NewBatch()
	nb.AddTable(&nft.Table{Family: nft.FamilyIPv4, Name: "native"})
	nb.AddChain(&nft.Chain{Family: nft.FamilyIPv4, Table: "native", Name: "c"})
	nb.AddRule(&nft.Rule{Family: nft.FamilyIPv4, Table: "native", Chain: "c", ID: 1,
		Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
	ib.AppendTo(nb)
	// Inserted before native rule id 1, whatever ids the iptables rules use.
	nb.InsertRule(&nft.Rule{Family: nft.FamilyIPv4, Table: "native", Chain: "c", PositionID: 1,
		Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}})
	if err := nb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	nsC.RunInput(t, mixRestore, "iptables-nft-restore", "--noflush", "-c")
	want := stripSaveComments(cliStdout(t, nsC, "iptables-nft-save", "-c"))
	got := stripSaveComments(cliStdout(t, nsK, "iptables-nft-save", "-c"))
	if got != want {
		t.Fatalf("iptables-nft-save -c after one mixed nft.Batch differs from after iptables-nft-restore:\n%s", lineDiff(got, want))
	}
	native := nsK.Run(t, "nft", "list", "chain", "ip", "native", "c")
	if d, a := strings.Index(native, "drop"), strings.Index(native, "accept"); d < 0 || a < 0 || d > a {
		t.Fatalf("native chain, want drop before accept:\n%s", native)
	}
}

// TestAppendToAtomic: when a native operation of the shared nft.Batch
// fails, the iptables part is not applied either.
func TestAppendToAtomic(t *testing.T) {
	ns := nstest.New(t)
	ctx := context.Background()
	c := dialNS(t, ns)
	n, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ib := NewBatch()
	r, err := ParseRule(IPv4, "-A INPUT -p tcp --dport 22 -j ACCEPT")
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Append(IPv4, r); err != nil {
		t.Fatal(err)
	}
	nb := n.NewBatch()
	ib.AppendTo(nb)
	nb.DeleteTable(&nft.Table{Family: nft.FamilyIPv4, Name: "nosuchtable"})
	if err := nb.Commit(ctx); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("commit: %v, want ENOENT from the native delete", err)
	}
	if out := ns.Run(t, "nft", "list", "ruleset"); strings.TrimSpace(out) != "" {
		t.Fatalf("ruleset after a failed mixed batch:\n%s", out)
	}
	// The same iptables batch alone applies.
	if err := c.Commit(ctx, ib); err != nil {
		t.Fatal(err)
	}
	rules, err := c.ListRules(ctx, IPv4, "filter", "INPUT")
	if err != nil || len(rules) != 1 || rules[0].Spec(IPv4) != r.Spec(IPv4) {
		t.Fatalf("after commit: %v %v", rules, err)
	}
}
