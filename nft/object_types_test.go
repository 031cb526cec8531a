package nft

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

// tcpTimeoutDefaults is the full TCP policy nft 1.0.6 sends for `policy =
// { established: 100, close: 10 }` (it fills in its defaults).
func tcpTimeoutPolicy() []CTTimeoutValue {
	secs := []uint32{120, 60, 100, 120, 60, 30, 120, 10, 120, 300, 300}
	var p []CTTimeoutValue
	for i, s := range secs {
		p = append(p, CTTimeoutValue{State: uint16(i + 1), Seconds: s})
	}
	return p
}

var typedObjects = map[string]*Object{
	"limit": {Family: FamilyINet, Table: "q", Name: "l1", Type: ObjLimit,
		Limit: &Limit{Rate: 10, Unit: time.Second, Burst: 5, Over: true}},
	"limit-bytes": {Family: FamilyINet, Table: "q", Name: "l2", Type: ObjLimit,
		Limit: &Limit{Rate: 1 << 20, Unit: time.Second, Type: LimitBytes}},
	"ct-helper": {Family: FamilyINet, Table: "q", Name: "h1", Type: ObjCTHelper,
		CTHelper: &CTHelper{Name: "ftp", L3Proto: 2, L4Proto: 6}},
	"ct-timeout": {Family: FamilyINet, Table: "q", Name: "t1", Type: ObjCTTimeout,
		CTTimeout: &CTTimeout{L3Proto: 2, L4Proto: 6, Policy: tcpTimeoutPolicy()}},
	"ct-expect": {Family: FamilyINet, Table: "q", Name: "e1", Type: ObjCTExpect,
		CTExpect: &CTExpect{L3Proto: 2, L4Proto: 6, DPort: 21, Timeout: time.Minute, Size: 12}},
	"synproxy": {Family: FamilyINet, Table: "q", Name: "s1", Type: ObjSynproxy,
		Synproxy: &Synproxy{MSS: 1460, Wscale: 7, Flags: SynproxyMSS | SynproxyWscale | SynproxySackPerm | SynproxyTimestamp}},
	"secmark": {Family: FamilyINet, Table: "q", Name: "sm", Type: ObjSecmark,
		Secmark: &Secmark{Context: "system_u:object_r:ssh_server_packet_t:s0"}},
}

// TestTypedObjectRequestBytes: for each typed object, our NEWOBJ
// attributes are byte for byte what nft sends for the same command.
func TestTypedObjectRequestBytes(t *testing.T) {
	fx := readHexFixtures(t, "testdata/object_requests.txt")
	if len(fx) != len(typedObjects) {
		t.Fatalf("%d fixtures for %d objects", len(fx), len(typedObjects))
	}
	for name, o := range typedObjects {
		t.Run(name, func(t *testing.T) {
			b := (&Conn{}).NewBatch()
			b.AddObject(o)
			got := batchAttrs(t, b)
			if len(got) != 1 || !bytes.Equal(got[0], fx[name]) {
				t.Fatalf("got  %x\nwant %x", got, fx[name])
			}
		})
	}
}

// nftBlock returns the text of `TYPE NAME { ... }` in an nft listing.
func nftBlock(t *testing.T, listing, kind, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)\t` + regexp.QuoteMeta(kind+" "+name) + ` \{\n(.*?)\n\t\}`)
	m := re.FindStringSubmatch(listing)
	if m == nil {
		t.Fatalf("no %s %s in:\n%s", kind, name, listing)
	}
	return m[1]
}

// TestTypedObjectsDifferential: nft writes every object type the kernel
// here supports; nfkit lists them typed and exact; nfkit writes copies and
// nft prints each copy exactly as it prints the original.
func TestTypedObjectsDifferential(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.RunInput(t, `table inet o {
  limit l1 { rate over 10/second burst 5 packets; }
  limit l2 { rate 1 mbytes/second; }
  ct helper h1 { type "ftp" protocol tcp; l3proto ip; }
  ct timeout t1 { protocol tcp; l3proto ip; policy = { established: 100, close: 10 }; }
  ct expectation e1 { protocol tcp; dport 21; timeout 1m; size 12; l3proto ip; }
  synproxy s1 { mss 1460; wscale 7; timestamp sack-perm; }
}
`, "nft", "-f", "-")

	for _, raw := range rawDump(t, c, msgGetObj, msgNewObj) {
		var o Object
		if err := o.unmarshal(FamilyINet, raw); err != nil {
			t.Fatal(err)
		}
		if o.Data != nil || !o.hasTyped() {
			t.Errorf("%v: not typed (data %x)", &o, o.Data)
		}
		var e attr.Writer
		if err := o.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !equalIgnoringNested(e.Buf, raw) {
			t.Errorf("%v: re-encoded differs at %d\n got %x\nwant %x", &o, firstDiff(e.Buf, raw), e.Buf, raw)
		}
	}

	objs, err := c.ListObjects(ctx, FamilyINet, "o")
	if err != nil || len(objs) != 6 {
		t.Fatalf("%d objects, %v", len(objs), err)
	}
	by := map[string]*Object{}
	for _, o := range objs {
		by[o.Name] = o
	}
	if l := by["l1"].Limit; l == nil || *l != (Limit{Rate: 10, Unit: time.Second, Burst: 5, Over: true}) {
		t.Errorf("l1: %+v", l)
	}
	if h := by["h1"].CTHelper; h == nil || *h != (CTHelper{Name: "ftp", L3Proto: 2, L4Proto: 6}) {
		t.Errorf("h1: %+v", h)
	}
	if tm := by["t1"].CTTimeout; tm == nil || len(tm.Policy) != 11 ||
		tm.Policy[CTTimeoutTCPEstablished-1] != (CTTimeoutValue{CTTimeoutTCPEstablished, 100}) ||
		tm.Policy[CTTimeoutTCPClose-1] != (CTTimeoutValue{CTTimeoutTCPClose, 10}) {
		t.Errorf("t1: %+v", tm)
	}
	if x := by["e1"].CTExpect; x == nil || *x != (CTExpect{L3Proto: 2, L4Proto: 6, DPort: 21, Timeout: time.Minute, Size: 12}) {
		t.Errorf("e1: %+v", x)
	}
	if s := by["s1"].Synproxy; s == nil || s.MSS != 1460 || s.Wscale != 7 || s.Flags&(SynproxySackPerm|SynproxyTimestamp) == 0 {
		t.Errorf("s1: %+v", s)
	}
	got, err := c.GetObject(ctx, FamilyINet, "o", "e1", ObjCTExpect)
	if err != nil || got.CTExpect == nil || got.CTExpect.DPort != 21 {
		t.Errorf("GetObject: %+v %v", got, err)
	}
	n := 0
	for o, err := range c.ResetObjects(ctx, FamilyINet, "o") {
		if err != nil {
			t.Fatal(err)
		}
		if !o.hasTyped() {
			t.Errorf("reset listing: %v untyped", o)
		}
		n++
	}
	if n != 6 {
		t.Errorf("reset listed %d objects", n)
	}

	// nfkit writes a typed copy of each; nft prints it like the original.
	b := c.NewBatch()
	for _, o := range objs {
		cp := *o
		cp.Name, cp.Handle = o.Name+"x", 0
		b.AddObject(&cp)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := ns.Run(t, "nft", "list", "table", "inet", "o")
	kinds := map[string]string{"l1": "limit", "l2": "limit", "h1": "ct helper", "t1": "ct timeout", "e1": "ct expectation", "s1": "synproxy"}
	for name, kind := range kinds {
		if a, b := nftBlock(t, out, kind, name), nftBlock(t, out, kind, name+"x"); a != b {
			t.Errorf("%s %s: nft prints nfkit's copy as\n%s\nand the original as\n%s", kind, name, b, a)
		}
	}
}

// TestConnlimitObject: nft 1.0.6 cannot create a named connlimit; nfkit
// writes one and reads it back typed and exact.
func TestConnlimitObject(t *testing.T) {
	c, ns := testConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyINet, Name: "o"})
	b.AddObject(&Object{Family: FamilyINet, Table: "o", Name: "cl", Type: ObjConnlimit, Connlimit: &Connlimit{Count: 10, Over: true}})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, FamilyINet, "o", "cl", ObjConnlimit)
	if err != nil || got.Connlimit == nil || *got.Connlimit != (Connlimit{Count: 10, Over: true}) || got.Data != nil {
		t.Fatalf("%+v %v", got, err)
	}
	if out, err := ns.Exec("nft", "list", "ruleset"); err == nil && !strings.Contains(out, "table inet o") {
		t.Errorf("nft does not see the table:\n%s", out)
	}
}

func TestTypedObjectValidation(t *testing.T) {
	base := func(typ ObjType) Object { return Object{Family: FamilyINet, Table: "o", Name: "x", Type: typ} }
	bad := []Object{}
	add := func(o Object, f func(*Object)) { f(&o); bad = append(bad, o) }
	add(base(ObjLimit), func(o *Object) { o.Limit = &Limit{Rate: 0, Unit: time.Second} })
	add(base(ObjLimit), func(o *Object) { o.Limit = &Limit{Rate: 1, Unit: time.Millisecond} })
	add(base(ObjQuota), func(o *Object) { o.Limit = &Limit{Rate: 1, Unit: time.Second} })
	add(base(ObjCTHelper), func(o *Object) { o.CTHelper = &CTHelper{Name: "a-helper-name-too-long", L4Proto: 6} })
	add(base(ObjCTTimeout), func(o *Object) { o.CTTimeout = &CTTimeout{L4Proto: 6, Policy: []CTTimeoutValue{{0, 1}}} })
	add(base(ObjCTExpect), func(o *Object) { o.CTExpect = &CTExpect{L4Proto: 6, Timeout: time.Microsecond} })
	add(base(ObjSynproxy), func(o *Object) { o.Synproxy = &Synproxy{Wscale: 15} })
	add(base(ObjSecmark), func(o *Object) { o.Secmark = &Secmark{} })
	add(base(ObjLimit), func(o *Object) {
		o.Limit = &Limit{Rate: 1, Unit: time.Second}
		o.Synproxy = &Synproxy{}
	})
	for _, o := range bad {
		b := (&Conn{}).NewBatch()
		b.AddObject(&o)
		if _, _, err := b.build(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", o, err)
		}
	}
}
