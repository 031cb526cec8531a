package iptables

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/nft"
)

// TestPooledDecode: Save's pooled decode prints every rule exactly as a
// fresh decode does, over every fixture iptables-nft wrote and a small
// kube-proxy table, in sequence through one pool (so state left in a
// reused object by one rule would show in a later one), and twice over
// so that every pooled object is reused.
func TestPooledDecode(t *testing.T) {
	type listed struct {
		f  Family
		nr *nft.Rule
	}
	var rules []listed
	for _, fx := range loadFixtures(t) {
		if fx.Err != "" {
			continue
		}
		fam, _, _, _ := splitCase(fx.Case)
		raw, err := hex.DecodeString(fx.Exprs)
		if err != nil {
			t.Fatal(err)
		}
		nr := &nft.Rule{Table: "filter", Chain: "C"}
		nr.SetRawExprs(raw)
		rules = append(rules, listed{caseFamily(fam), nr})
	}
	for _, r := range kubeRules(t, kubeRuleset(kubeServices(20, 3))) {
		rules = append(rules, listed{IPv4, r})
	}
	pooled := ruleDec{pool: &decPool{}}
	var fresh ruleDec
	n := 0
	for round := 0; round < 2; round++ {
		for _, l := range rules {
			want, werr := fresh.decodeListed(l.f, l.nr)
			var wb textBuf
			if werr == nil {
				saveLine(&wb, want, l.nr.Chain, l.f, true)
			}
			got, gerr := pooled.decodeListed(l.f, l.nr)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s: fresh error %v, pooled error %v", wb.String(), werr, gerr)
			}
			if gerr != nil {
				continue
			}
			var gb textBuf
			saveLine(&gb, got, l.nr.Chain, l.f, true)
			if gb.String() != wb.String() {
				t.Errorf("pooled %q, fresh %q", gb.String(), wb.String())
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d rules compared", n)
	}
}

// kubeRules encodes the "-A" lines of an iptables-restore text as
// iptables-nft writes them, as listed nat rules.
func kubeRules(tb testing.TB, text string) []*nft.Rule {
	tb.Helper()
	var out []*nft.Rule
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		r, err := ParseRule(IPv4, line)
		if err != nil {
			tb.Fatal(err)
		}
		xs, err := encodeRule(IPv4, r)
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := marshalExprs(xs)
		if err != nil {
			tb.Fatal(err)
		}
		nr := &nft.Rule{Family: nft.FamilyIPv4, Table: "nat", Chain: r.Chain}
		nr.SetRawExprs(raw)
		out = append(out, nr)
	}
	return out
}
