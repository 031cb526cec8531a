package ipset

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestBadInput: invalid input is an ErrInvalid naming the field, and
// nothing reaches the kernel.
func TestBadInput(t *testing.T) {
	ns, c := testConn(t)
	ctx := testCtx(t)
	if err := c.Create(ctx, Set{Name: "s4", Type: HashIPPort}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, Set{Name: "bp", Type: BitmapPort, PortFrom: 10, PortTo: 20}); err != nil {
		t.Fatal(err)
	}
	before := cliSave(t, ns)
	a4 := netip.MustParseAddr("192.0.2.1")
	cases := []struct {
		name  string
		field string
		do    func() error
	}{
		{"long set name", "Name", func() error {
			return c.Create(ctx, Set{Name: strings.Repeat("x", 32), Type: HashIP})
		}},
		{"long name in add", "set", func() error { return c.Add(ctx, strings.Repeat("y", 40), Entry{Addr: a4}) }},
		{"empty name", "Name", func() error { return c.Create(ctx, Set{Type: HashIP}) }},
		{"unknown type", "Type", func() error { return c.Create(ctx, Set{Name: "x", Type: "hash:foo"}) }},
		{"entry does not fit the type", "MAC", func() error {
			return c.Add(ctx, "s4", Entry{Addr: a4, Port: 1, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}})
		}},
		{"missing address", "Addr", func() error { return c.Add(ctx, "s4", Entry{Port: 1}) }},
		{"IPv6 entry in inet set", "Addr", func() error {
			return c.Add(ctx, "s4", Entry{Addr: netip.MustParseAddr("2001:db8::1"), Port: 1})
		}},
		{"port range upside down", "PortTo", func() error { return c.Add(ctx, "s4", Entry{Addr: a4, Port: 90, PortTo: 80}) }},
		{"address range upside down", "AddrTo", func() error {
			return c.Add(ctx, "s4", Entry{Addr: a4, AddrTo: netip.MustParseAddr("192.0.2.0"), Port: 1})
		}},
		{"port outside bitmap range", "Port", func() error { return c.Add(ctx, "bp", Entry{Port: 30}) }},
		{"timeout on set without timeout", "Timeout", func() error { return c.Add(ctx, "s4", Entry{Addr: a4, Port: 1, Timeout: time.Second}) }},
		{"comment on set without comment", "Comment", func() error { return c.Add(ctx, "s4", Entry{Addr: a4, Port: 1, Comment: "x"}) }},
		{"valid then invalid entry", "Port", func() error {
			return c.Add(ctx, "s4", Entry{Addr: a4, Port: 1}, Entry{Addr: a4, Port: 5, PortTo: 4})
		}},
		{"hashsize not a power of two", "HashSize", func() error { return c.Create(ctx, Set{Name: "h", Type: HashIP, HashSize: 1000}) }},
		{"netmask on wrong type", "NetMask", func() error { return c.Create(ctx, Set{Name: "h", Type: HashNet, NetMask: 24}) }},
		{"bitmap without range", "RangeFrom/RangeTo", func() error { return c.Create(ctx, Set{Name: "h", Type: BitmapIP}) }},
		{"inet6 bitmap", "Family", func() error {
			return c.Create(ctx, Set{Name: "h", Type: BitmapIP, Family: FamilyInet6})
		}},
		{"list:set before and after", "Before", func() error {
			b := NewBatch()
			b.Create(Set{Name: "l", Type: ListSet})
			b.Add("l", Entry{Set: "s4", Before: "bp", After: "bp"})
			return b.Commit(ctx, c)
		}},
		{"maxelem 0 in save text", "MaxElem", func() error {
			_, err := ParseSave(strings.NewReader("create h hash:ip maxelem 0\n"))
			return err
		}},
		{"IPv6 range", "AddrTo", func() error {
			s := Set{Name: "x6", Type: HashIP, Family: FamilyInet6}
			_, err := ParseEntry(&s, "2001:db8::1-2001:db8::5")
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("%v does not name the field %s", err, tc.field)
			}
		})
	}
	if after := cliSave(t, ns); after != before {
		t.Errorf("invalid input changed the kernel state:\n%s\n--- before\n%s", after, before)
	}
}

// TestCreateOptionsRoundTrip: every option nfkit sends comes back from the
// kernel's listing.
func TestCreateOptionsRoundTrip(t *testing.T) {
	_, c := testConn(t)
	ctx := testCtx(t)
	sets := []Set{
		{Name: "a", Type: HashIP, Family: FamilyInet6, HashSize: 64, MaxElem: 100, BucketSize: 4, InitVal: 7,
			NetMask: 64, Timeout: 30 * time.Second, Counters: true, Comment: true, SkbInfo: true, ForceAdd: true},
		{Name: "b", Type: HashIPPort, BitMask: netip.MustParseAddr("255.255.0.0"), InitVal: 9, WithTimeout: true},
		{Name: "c", Type: BitmapIP, RangeFrom: netip.MustParseAddr("192.0.2.0"), RangeTo: netip.MustParseAddr("192.0.2.127"), NetMask: 30, Counters: true},
		{Name: "d", Type: BitmapPort, PortFrom: 1, PortTo: 1000, Comment: true},
		{Name: "e", Type: BitmapIPMAC, RangeFrom: netip.MustParseAddr("198.51.100.0"), RangeTo: netip.MustParseAddr("198.51.100.255"), SkbInfo: true},
		{Name: "f", Type: ListSet, Size: 4, Timeout: time.Minute},
		{Name: "g", Type: HashNetIface, Family: FamilyInet6, MaxElem: 7, InitVal: 1},
	}
	for _, s := range sets {
		if err := c.Create(ctx, s); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		got, err := c.Get(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		ti, _ := lookupType(s.Type)
		want := s
		want.Family = ti.effectiveFamily(s.Family)
		_, want.Revision, _ = c.Revisions(ctx, s.Type, s.Family)
		// Kernel defaults and read-only fields.
		want.Entries, want.References, want.MemSize = 0, 0, got.MemSize
		if ti.kind == kindHash {
			if want.HashSize == 0 {
				want.HashSize = got.HashSize
			}
			if want.MaxElem == 0 {
				want.MaxElem = 65536
			}
			if want.BucketSize == 0 {
				want.BucketSize = got.BucketSize
			}
		}
		if s.Type == ListSet && want.Size == 0 {
			want.Size = 8
		}
		if want.Timeout == 0 && want.WithTimeout {
			want.WithTimeout = true
		} else if want.Timeout > 0 {
			want.WithTimeout = true
		}
		if !setEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s.Name, got, want)
		}
	}
}

func setEqual(a, b Set) bool {
	a.Raw, b.Raw = nil, nil
	return a.Name == b.Name && a.Type == b.Type && a.Family == b.Family && a.Revision == b.Revision &&
		a.HashSize == b.HashSize && a.MaxElem == b.MaxElem && a.BucketSize == b.BucketSize &&
		a.InitVal == b.InitVal && a.NetMask == b.NetMask && a.BitMask == b.BitMask && a.MarkMask == b.MarkMask &&
		a.Size == b.Size && a.RangeFrom == b.RangeFrom && a.RangeTo == b.RangeTo && a.PortFrom == b.PortFrom &&
		a.PortTo == b.PortTo && a.Timeout == b.Timeout && a.WithTimeout == b.WithTimeout && a.Counters == b.Counters &&
		a.Comment == b.Comment && a.SkbInfo == b.SkbInfo && a.ForceAdd == b.ForceAdd && a.Entries == b.Entries &&
		a.References == b.References && a.MemSize == b.MemSize
}
