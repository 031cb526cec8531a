package nft

import (
	"bytes"
	"slices"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
)

// rawDump returns the attribute bytes (after nfgenmsg) of every object a
// GET dump returns, for byte-level comparison with what nfkit re-encodes.
func rawDump(t testing.TB, c *Conn, cmd, want uint8) [][]byte {
	t.Helper()
	var out [][]byte
	for m, err := range c.nl.Dump(testCtx(t), request(cmd, FamilyUnspec, nil)) {
		if err != nil {
			t.Fatal(err)
		}
		if _, got := nfnl.Split(m.Header.Type); got != want {
			continue
		}
		out = append(out, append([]byte(nil), m.Data[nfnl.HeaderLen:]...))
	}
	return out
}

// firstDiff describes where two byte strings differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestLosslessReencodeNftRuleset(t *testing.T) {
	c, ns := testConn(t)
	ns.Run(t, "nft", "-f", "testdata/broad.nft")

	for _, raw := range rawDump(t, c, msgGetTable, msgNewTable) {
		var x Table
		if err := x.unmarshal(FamilyINet, raw); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		if err := x.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Buf, raw) {
			t.Errorf("table %s: re-encoded differs at %d\n got %x\nwant %x", x.Name, firstDiff(e.Buf, raw), e.Buf, raw)
		}
	}
	n := 0
	for _, raw := range rawDump(t, c, msgGetChain, msgNewChain) {
		var x Chain
		if err := x.unmarshal(FamilyINet, raw); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		if err := x.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Buf, raw) {
			t.Errorf("chain %s: re-encoded differs at %d\n got %x\nwant %x", x.Name, firstDiff(e.Buf, raw), e.Buf, raw)
		}
		n++
	}
	if n != 9 {
		t.Errorf("%d chains, want 9", n)
	}
	n = 0
	for _, raw := range rawDump(t, c, msgGetRule, msgNewRule) {
		var x Rule
		if err := x.unmarshal(FamilyINet, raw, false); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		if err := x.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !equalIgnoringNested(e.Buf, raw, attrRuleExprs) {
			t.Errorf("rule %s %d: re-encoded differs at %d\n got %x\nwant %x", x.Chain, x.Handle, firstDiff(e.Buf, raw), e.Buf, raw)
		}
		n++
	}
	if n != 16 {
		t.Errorf("%d rules, want 16", n)
	}
}

// equalIgnoringNested compares two attribute streams byte for byte except
// for NLA_F_NESTED, which the kernel leaves off in dumps and libnftnl (and
// package expr) set on requests; the kernel treats both alike. Anything
// else (lengths, order, padding, payload) must match exactly.
func equalIgnoringNested(a, b []byte, nests ...uint16) bool {
	split := func(x []byte) ([]rawAttr, bool) {
		var out []rawAttr
		err := attr.Walk(x, func(typ uint16, d []byte) error {
			out = append(out, rawAttr{typ, d})
			return nil
		})
		return out, err == nil
	}
	if bytes.Equal(a, b) {
		return true
	}
	if len(a) != len(b) {
		return false
	}
	as, ok1 := split(a)
	bs, ok2 := split(b)
	if !ok1 || !ok2 || len(as) != len(bs) {
		return false
	}
	for i := range as {
		if as[i].Type&^attr.Nested != bs[i].Type&^attr.Nested {
			return false
		}
		if (as[i].Type|bs[i].Type)&attr.Nested != 0 || slices.Contains(nests, as[i].Type&attr.TypeMask) {
			if !equalIgnoringNested(as[i].Data, bs[i].Data) {
				return false
			}
		} else if !bytes.Equal(as[i].Data, bs[i].Data) {
			return false
		}
	}
	return true
}
