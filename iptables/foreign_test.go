package iptables

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// TestForeignRule: a native nft rule between two iptables rules is listed
// as a ForeignRule in its place (typed expressions, handle), Save prints
// what iptables-nft-save prints (the "incompatible" line for that table,
// the other tables as usual), rule numbers count it but never address
// it, writing it back as an iptables rule is refused, and its Raw bytes
// re-create it.
func TestForeignRule(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-save")
	ns := nstest.New(t)
	ns.Run(t, "iptables-nft", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
	ns.Run(t, "nft", "add", "rule", "ip", "filter", "INPUT", "ct", "state", "established", "accept")
	ns.Run(t, "iptables-nft", "-A", "INPUT", "-j", "DROP")
	ns.Run(t, "iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE")
	listing := ns.Run(t, "nft", "-a", "list", "chain", "ip", "filter", "INPUT")
	m := regexp.MustCompile(`ct state established accept # handle (\d+)`).FindStringSubmatch(listing)
	if m == nil {
		t.Fatalf("no handle in:\n%s", listing)
	}
	ctHandle, _ := strconv.ParseUint(m[1], 10, 64)
	c := dialNS(t, ns)
	ctx := context.Background()

	rules, err := c.ListRules(ctx, IPv4, "filter", "INPUT")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules, want 3: %v", len(rules), rules)
	}
	if rules[0].Foreign != nil || rules[0].Spec(IPv4) != "-p tcp -m tcp --dport 22 -j ACCEPT" ||
		rules[2].Foreign != nil || rules[2].Spec(IPv4) != "-j DROP" {
		t.Errorf("iptables rules: %q, %q", rules[0], rules[2])
	}
	fr := rules[1].Foreign
	if fr == nil {
		t.Fatalf("rule 2 not foreign: %q", rules[1])
	}
	if fr.Table != "filter" || fr.Chain != "INPUT" || fr.Handle != ctHandle || rules[1].Handle != ctHandle {
		t.Errorf("foreign rule at %s %s handle %d, want filter INPUT handle %d", fr.Table, fr.Chain, fr.Handle, ctHandle)
	}
	var ct *expr.Ct
	var verdict *expr.Verdict
	for _, e := range fr.Exprs {
		switch e := e.(type) {
		case *expr.Ct:
			ct = e
		case *expr.Verdict:
			verdict = e
		case *expr.Raw:
			t.Errorf("expression %s not typed", e.ExprName)
		}
	}
	if ct == nil || ct.Key != expr.CtState || verdict == nil || verdict.Kind != expr.VerdictAccept {
		t.Errorf("foreign expressions %v: want ct state ... accept", fr.Exprs)
	}
	if s := rules[1].String(); !strings.HasPrefix(s, "# foreign rule filter INPUT handle ") {
		t.Errorf("String: %q", s)
	}
	if _, err := ParseRule(IPv4, rules[1].String()); err == nil {
		t.Errorf("a foreign rule's text parses as a rule")
	}

	// Save = iptables-nft-save, whole and per table.
	for _, table := range []string{"", "filter", "nat"} {
		args := []string{}
		if table != "" {
			args = append(args, "-t", table)
		}
		want := stripSaveComments(cliStdout(t, ns, "iptables-nft-save", args...))
		got := stripSaveComments(saveString(t, c, IPv4, table, false))
		if got != want {
			t.Errorf("Save %v differs from iptables-nft-save:\n%s\ngot:\n%s", args, lineDiff(got, want), got)
		}
		if table != "nat" && !strings.Contains(got, "# Table `filter' is incompatible, use 'nft' tool.") {
			t.Errorf("Save %v: no incompatible line:\n%s", args, got)
		}
	}

	// Writing it back as an iptables rule is refused before any I/O.
	if err := NewBatch().Append(IPv4, rules[1]); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append of a foreign rule: %v, want ErrInvalid", err)
	}
	// Rule numbers count it; number 2 is refused, number 3 is the DROP.
	if err := c.DeleteNum(ctx, IPv4, "filter", "INPUT", 2); !errors.Is(err, ErrForeign) {
		t.Errorf("DeleteNum 2: %v, want ErrForeign", err)
	}
	if err := c.DeleteNum(ctx, IPv4, "filter", "INPUT", 3); err != nil {
		t.Fatal(err)
	}
	// Raw re-creates it: the copy lists as the same foreign rule.
	n, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	nb := n.NewBatch()
	cp := &nft.Rule{Family: nft.FamilyIPv4, Table: "filter", Chain: "INPUT"}
	cp.SetRawExprs(fr.Raw)
	nb.AddRule(cp)
	if err := nb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	rules, err = c.ListRules(ctx, IPv4, "filter", "INPUT")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 || rules[1].Foreign == nil || rules[2].Foreign == nil || !bytes.Equal(rules[2].Foreign.Raw, fr.Raw) {
		t.Fatalf("after re-adding the raw copy: %v", rules)
	}
	if got := ns.Run(t, "nft", "list", "chain", "ip", "filter", "INPUT"); strings.Count(got, "ct state established accept") != 2 || strings.Contains(got, "drop") {
		t.Errorf("nft lists:\n%s", got)
	}
}
