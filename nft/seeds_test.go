package nft

import (
	"bytes"
	"os"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

// TestCaptureFuzzSeeds writes the kernel's dump bytes for the testdata
// rulesets as fuzz seeds (only with NFKIT_CAPTURE=1: they are committed).
func TestCaptureFuzzSeeds(t *testing.T) {
	if os.Getenv("NFKIT_CAPTURE") != "1" {
		t.Skip("set NFKIT_CAPTURE=1 to refresh testdata/seed-*.bin")
	}
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ns.Run(t, "nft", "-f", "testdata/broad.nft")
	ns.Run(t, "nft", "-f", "testdata/sets.nft")
	write := func(kind string, objs [][]byte) {
		if err := os.WriteFile("testdata/seed-"+kind+".bin", bytes.Join(objs, []byte("\n--\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("table", rawDump(t, c, msgGetTable, msgNewTable))
	write("chain", rawDump(t, c, msgGetChain, msgNewChain))
	write("rule", rawDump(t, c, msgGetRule, msgNewRule))
	write("set", rawDump(t, c, msgGetSet, msgNewSet))
	var elems [][]byte
	for _, s := range []string{"s4", "m", "marks", "to"} {
		var e attr.Writer
		e.String(attrElemListTable, "t")
		e.String(attrElemListSet, s)
		for m, err := range c.nl.Dump(testCtx(t), request(msgGetSetElem, FamilyIPv4, e.Buf)) {
			if err != nil {
				t.Fatal(err)
			}
			_ = attr.Walk(m.Data[4:], func(typ uint16, d []byte) error {
				if typ&attr.TypeMask == attrElemListElements {
					_ = attr.Walk(d, func(_ uint16, d []byte) error {
						elems = append(elems, append([]byte(nil), d...))
						return nil
					})
				}
				return nil
			})
		}
	}
	write("element", elems)
}
