package nft

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestMarkIntervalDifferential: ranges of a host-endian type (mark) in an
// interval set are stored big-endian, as nft stores them, both ways.
func TestMarkIntervalDifferential(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	s := &Set{Family: FamilyIPv4, Table: "t", Name: "m", KeyType: []DataType{TypeMark}, Flags: SetInterval}
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
	b.AddSet(s)
	b.AddElements(s, Element{Key: Range{From: 0x10, To: 0x20}}, Element{Key: uint32(0x100)})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "nft", "list", "set", "ip", "t", "m"); !strings.Contains(out, "elements = { 0x00000010-0x00000020, 0x00000100 }") {
		t.Errorf("nft lists:\n%s", out)
	}
	ns.Run(t, "nft", "add element ip t m { 0x300-0x400, 0x1000 }")
	got, err := c.ListElements(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range got {
		if e.KeyEnd != nil {
			keys = append(keys, fmtAny(e.Key)+"-"+fmtAny(e.KeyEnd))
		} else {
			keys = append(keys, fmtAny(e.Key))
		}
	}
	if w := "0x10-0x20 0x100 0x300-0x400 0x1000"; strings.Join(keys, " ") != w {
		t.Errorf("listed %q, want %q", strings.Join(keys, " "), w)
	}
}

func fmtAny(v any) string {
	if n, ok := v.(uint32); ok {
		return fmt.Sprintf("%#x", n)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// TestElementStateOnWrite: counters and time left are written on add and
// nft lists them; catch-all elements go both ways.
func TestElementStateOnWrite(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	s := &Set{Family: FamilyIPv4, Table: "t", Name: "s", KeyType: []DataType{TypeIPv4Addr}, Counter: true, Flags: SetTimeout}
	m := &Set{Family: FamilyIPv4, Table: "t", Name: "vm", KeyType: []DataType{TypeIPv4Addr}, DataType: TypeVerdict}
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
	b.AddSet(s)
	b.AddSet(m)
	b.AddElements(s, Element{Key: netip.MustParseAddr("192.0.2.1"), Timeout: time.Hour, Expires: 30 * time.Minute,
		Counter: &Counters{Packets: 5, Bytes: 10}})
	b.AddElements(m, Element{Key: netip.MustParseAddr("192.0.2.2"), Value: Verdict{Code: VerdictAccept}},
		Element{Catchall: true, Value: Verdict{Code: VerdictDrop}})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := ns.Run(t, "nft", "list", "table", "ip", "t")
	// Expires 30m prints as "30m" when the list comes within the
	// kernel's clock granularity, "29m59s..." otherwise.
	if !regexp.MustCompile(`192\.0\.2\.1 counter packets 5 bytes 10 timeout 1h expires (30m|29m)`).MatchString(out) {
		t.Errorf("nft list lacks the element with counter and expires 29m..30m:\n%s", out)
	}
	if w := "192.0.2.2 : accept, * : drop"; !strings.Contains(out, w) {
		t.Errorf("nft list lacks %q:\n%s", w, out)
	}
	ns.Run(t, "nft", "add map ip t vm2 { type ipv4_addr : verdict; elements = { * : accept } }")
	got, err := c.ListElements(ctx, &Set{Family: FamilyIPv4, Table: "t", Name: "vm2", KeyType: []DataType{TypeIPv4Addr}, DataType: TypeVerdict})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Catchall || got[0].Value != (Verdict{Code: VerdictAccept}) {
		t.Errorf("nft's catch-all listed as %+v", got)
	}
	els, err := c.ListElements(ctx, s)
	if err != nil || len(els) != 1 || els[0].Counter == nil || *els[0].Counter != (Counters{Packets: 5, Bytes: 10}) ||
		els[0].Expires <= 29*time.Minute || els[0].Expires > 30*time.Minute {
		t.Errorf("listed %+v, %v", els, err)
	}
	// Validation, before any I/O.
	for name, e := range map[string]Element{
		"expires past the timeout": {Key: netip.MustParseAddr("192.0.2.3"), Timeout: time.Minute, Expires: time.Hour},
		"negative expires":         {Key: netip.MustParseAddr("192.0.2.3"), Timeout: time.Minute, Expires: -time.Second},
	} {
		b := c.NewBatch()
		b.AddElements(s, e)
		if _, _, err := b.build(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	b = c.NewBatch()
	b.AddElements(m, Element{Key: netip.MustParseAddr("192.0.2.3"), Value: Verdict{Code: VerdictDrop}, Counter: &Counters{}})
	if _, _, err := b.build(); !errors.Is(err, ErrInvalid) {
		t.Errorf("counter on a set without counter: %v", err)
	}
}
