package nft

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

// typeofCases are the sets of testdata/set_typeof_udata.txt as nfkit
// values (nft's command is in the fixture).
func typeofCases() map[string]*Set {
	return map[string]*Set{
		"ip-saddr":  {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofIPSaddr}},
		"concat":    {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofIPSaddr, TypeofTCPDport}},
		"meta-mark": {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofMetaMark}},
		"ct-state":  {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofCTState}},
		"map": {Family: FamilyIPv4, Table: "t", Name: "m", KeyTypeof: []Typeof{TypeofIPSaddr},
			DataTypeof: []Typeof{TypeofMetaMark}},
		"interval-merge-comment": {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofIPSaddr},
			Flags: SetInterval, AutoMerge: true, Comment: "c"},
	}
}

// TestSetTypeofUdataBytes: the user data nfkit writes for typeof sets is
// byte for byte what nft 1.0.6 sends, and decodes back to the fields.
func TestSetTypeofUdataBytes(t *testing.T) {
	want := readHexFixtures(t, "testdata/set_typeof_udata.txt")
	cases := typeofCases()
	if len(cases) != len(want) {
		t.Fatalf("%d cases for %d fixtures", len(cases), len(want))
	}
	for name, s := range cases {
		b := (&Conn{}).NewBatch()
		b.AddSet(s)
		msgs := batchAttrs(t, b)
		var ud []byte
		it := attr.NewIter(msgs[0])
		for it.Next() {
			if it.Type() == attrSetUserdata {
				ud = it.Data()
			}
		}
		if !bytes.Equal(ud, want[name]) {
			t.Errorf("%s: udata\n got %x\nwant %x", name, ud, want[name])
		}
		var got Set
		if err := got.unmarshal(FamilyIPv4, msgs[0]); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.KeyTypeof, s.KeyTypeof) || !slices.Equal(got.DataTypeof, s.DataTypeof) {
			t.Errorf("%s: decoded typeof %v : %v, want %v : %v", name, got.KeyTypeof, got.DataTypeof, s.KeyTypeof, s.DataTypeof)
		}
	}
}

// TestSetTypeofDifferential: nfkit writes typeof sets and nft lists them
// with their typeof; nft writes them and nfkit reads the fields back.
func TestSetTypeofDifferential(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyINet, Name: "t"})
	sets := []*Set{
		{Family: FamilyINet, Table: "t", Name: "c", KeyTypeof: []Typeof{TypeofIPDaddr, TypeofTCPDport}, Flags: SetInterval},
		{Family: FamilyINet, Table: "t", Name: "m", KeyTypeof: []Typeof{TypeofIifname}, DataTypeof: []Typeof{TypeofCTMark}},
		{Family: FamilyINet, Table: "t", Name: "s6", KeyTypeof: []Typeof{TypeofIP6Saddr, TypeofMetaL4Proto, TypeofTHDport}},
	}
	for _, s := range sets {
		b.AddSet(s)
	}
	b.AddElements(sets[0], Element{Key: Concat{netip.MustParseAddr("192.0.2.1"), 22}})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := ns.Run(t, "nft", "list", "table", "inet", "t")
	for _, w := range []string{"typeof ip daddr . tcp dport", "typeof iifname : ct mark", "typeof ip6 saddr . meta l4proto . th dport",
		"elements = { 192.0.2.1 . 22 }"} {
		if !strings.Contains(out, w) {
			t.Errorf("nft list lacks %q:\n%s", w, out)
		}
	}
	// The other way round.
	ns.Run(t, "nft", "add table ip u; add set ip u a { typeof ip saddr . udp dport; }; add map ip u b { typeof ether saddr : meta mark; }; add set ip u c { typeof ct state; }")
	listed, err := c.ListSets(ctx, FamilyIPv4, "u")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2][]Typeof{
		"a": {{TypeofIPSaddr, TypeofUDPDport}, nil},
		"b": {{TypeofEtherSaddr}, {TypeofMetaMark}},
		"c": {{TypeofCTState}, nil},
	}
	for _, s := range listed {
		w := want[s.Name]
		if !slices.Equal(s.KeyTypeof, w[0]) || !slices.Equal(s.DataTypeof, w[1]) {
			t.Errorf("set %s: typeof %v : %v, want %v : %v", s.Name, s.KeyTypeof, s.DataTypeof, w[0], w[1])
		}
		delete(want, s.Name)
	}
	if len(want) != 0 {
		t.Errorf("sets not listed: %v", want)
	}
}

func TestSetTypeofValidation(t *testing.T) {
	for name, s := range map[string]*Set{
		"typeof without type": {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{{Kind: TypeofMeta, Key: 99}}},
		"count mismatch":      {Family: FamilyIPv4, Table: "t", Name: "s", KeyType: []DataType{TypeIPv4Addr}, KeyTypeof: []Typeof{TypeofIPSaddr, TypeofTCPDport}},
		"unknown kind":        {Family: FamilyIPv4, Table: "t", Name: "s", KeyType: []DataType{TypeMark}, KeyTypeof: []Typeof{{Kind: 42, Type: TypeMark}}},
		"data typeof on set":  {Family: FamilyIPv4, Table: "t", Name: "s", KeyTypeof: []Typeof{TypeofIPSaddr}, DataTypeof: []Typeof{TypeofMetaMark}, KeyType: nil, DataType: DataType{}},
	} {
		if name == "data typeof on set" {
			// DataTypeof alone would make it a map; an explicit non-map
			// with a typeless data field is refused.
			s.DataTypeof = []Typeof{{Kind: TypeofMeta, Key: 3}}
		}
		b := (&Conn{}).NewBatch()
		b.AddSet(s)
		if _, _, err := b.build(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
