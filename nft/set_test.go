package nft

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

// setsLikeNft builds with nfkit what testdata/sets.nft declares.
func setsLikeNft(b *Batch) {
	b.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
	b.AddChain(&Chain{Family: FamilyIPv4, Table: "t", Name: "j"})
	s4 := &Set{Family: FamilyIPv4, Table: "t", Name: "s4", KeyType: []DataType{TypeIPv4Addr},
		Flags: SetInterval, AutoMerge: true, Comment: "c"}
	b.AddSet(s4)
	b.AddElements(s4,
		Element{Key: netip.MustParsePrefix("192.0.2.0/25")},
		Element{Key: netip.MustParsePrefix("192.0.2.128/25")}, // adjacent: merged into /24
		Element{Key: netip.MustParseAddr("198.51.100.1"), KeyEnd: netip.MustParseAddr("198.51.100.9")},
		Element{Key: Range{netip.MustParseAddr("198.51.100.3"), netip.MustParseAddr("198.51.100.5")}}, // inside: merged
	)
	m := &Set{Family: FamilyIPv4, Table: "t", Name: "m", KeyType: []DataType{TypeIPv4Addr, TypeInetService}, DataType: TypeVerdict}
	b.AddSet(m)
	b.AddElements(m,
		Element{Key: Concat{netip.MustParseAddr("192.0.2.1"), 80}, Value: Accept},
		Element{Key: Concat{netip.MustParseAddr("192.0.2.2"), uint16(443)}, Value: Jump("j")},
	)
	ports := &Set{Family: FamilyIPv4, Table: "t", Name: "ports", KeyType: []DataType{TypeInetService}, Size: 100}
	b.AddSet(ports)
	b.AddElements(ports, Element{Key: 22}, Element{Key: 80}, Element{Key: 443})
	marks := &Set{Family: FamilyIPv4, Table: "t", Name: "marks", KeyType: []DataType{TypeIfname}, DataType: TypeMark}
	b.AddSet(marks)
	b.AddElements(marks, Element{Key: "eth0", Value: 0x10}, Element{Key: "lo", Value: uint32(0x20)})
	to := &Set{Family: FamilyIPv4, Table: "t", Name: "to", KeyType: []DataType{TypeIPv4Addr}, Timeout: time.Minute}
	b.AddSet(to)
	b.AddElements(to, Element{Key: netip.MustParseAddr("192.0.2.7"), Timeout: 30 * time.Second, Comment: "x"})
}

var expiresRE = regexp.MustCompile(` expires [0-9hms]+`)

func normalizeList(s string) string {
	s = expiresRE.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// TestSetDifferential: the same sets written by nfkit and by `nft -f` are
// listed identically by nft.
func TestSetDifferential(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	setsLikeNft(b)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := normalizeList(ns.Run(t, "nft", "list", "ruleset"))

	ref := nstest.New(t)
	ref.Run(t, "nft", "-f", "testdata/sets.nft")
	want := normalizeList(ref.Run(t, "nft", "list", "ruleset"))
	if got != want {
		t.Errorf("nfkit's sets list as\n%s\nnft's as\n%s", got, want)
	}
}

// TestSetReadBack: nft writes sets, nfkit lists them typed and re-encodes
// the set attributes byte for byte.
func TestSetReadBack(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", "-f", "testdata/sets.nft")

	for _, raw := range rawDump(t, c, msgGetSet, msgNewSet) {
		var s Set
		if err := s.unmarshal(FamilyIPv4, raw); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		if err := s.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !equalIgnoringNested(e.Buf, raw) {
			t.Errorf("set %s: re-encoded differs at %d\n got %x\nwant %x", s.Name, firstDiff(e.Buf, raw), e.Buf, raw)
		}
	}

	sets, err := c.ListSets(ctx, FamilyIPv4, "t")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Set{}
	for _, s := range sets {
		byName[s.Name] = s
	}
	s4 := byName["s4"]
	if s4 == nil || !s4.AutoMerge || s4.Comment != "c" || s4.Flags&SetInterval == 0 || s4.KeyType[0] != TypeIPv4Addr {
		t.Fatalf("s4: %+v", s4)
	}
	els, err := c.ListElements(ctx, s4)
	if err != nil {
		t.Fatal(err)
	}
	if len(els) != 2 || els[0].Key != netip.MustParsePrefix("192.0.2.0/24") ||
		els[1].Key != netip.MustParseAddr("198.51.100.1") || els[1].KeyEnd != netip.MustParseAddr("198.51.100.9") {
		t.Errorf("s4 elements: %+v", els)
	}
	m := byName["m"]
	if m == nil || len(m.KeyType) != 2 || m.KeyType[1] != TypeInetService || m.DataType != TypeVerdict {
		t.Fatalf("m: %+v", m)
	}
	els, err = c.ListElements(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, el := range els {
		k := el.Key.(Concat)
		found[k[0].(netip.Addr).String()+" "+el.Value.(Verdict).String()] = k[1] == uint16(80) || k[1] == uint16(443)
	}
	if !found["192.0.2.1 accept"] || !found["192.0.2.2 jump j"] {
		t.Errorf("m elements: %+v", els)
	}
	els, err = c.ListElements(ctx, byName["marks"])
	if err != nil {
		t.Fatal(err)
	}
	marks := map[string]uint32{}
	for _, el := range els {
		marks[el.Key.(string)] = el.Value.(uint32)
	}
	if marks["eth0"] != 0x10 || marks["lo"] != 0x20 {
		t.Errorf("marks: %v", marks)
	}
	els, err = c.ListElements(ctx, byName["to"])
	if err != nil || len(els) != 1 {
		t.Fatalf("to: %v %v", els, err)
	}
	if el := els[0]; el.Comment != "x" || el.Timeout != 30*time.Second || el.Expires <= 0 || el.Expires > 30*time.Second {
		t.Errorf("to element: %+v", el)
	}
	if byName["to"].Timeout != time.Minute || byName["ports"].Size != 100 {
		t.Errorf("set parameters: %+v %+v", byName["to"], byName["ports"])
	}
	_ = bytes.Equal
}
