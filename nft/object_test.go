package nft

import (
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
)

func TestObjects(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", `add table inet t; add counter inet t cnt { comment "k" ; }; add quota inet t q { over 1000 bytes ; }; add limit inet t l { rate 10/second ; }`)

	for _, raw := range rawDump(t, c, msgGetObj, msgNewObj) {
		var o Object
		if err := o.unmarshal(FamilyINet, raw); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		if err := o.marshal(&e, true); err != nil {
			t.Fatal(err)
		}
		if !equalIgnoringNested(e.Buf, raw) {
			t.Errorf("%v: re-encoded differs at %d\n got %x\nwant %x", &o, firstDiff(e.Buf, raw), e.Buf, raw)
		}
	}
	objs, err := c.ListObjects(ctx, FamilyINet, "t")
	if err != nil || len(objs) != 3 {
		t.Fatalf("%v %v", objs, err)
	}
	byName := map[string]*Object{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	if o := byName["cnt"]; o == nil || o.Type != ObjCounter || o.Counter == nil || o.Comment != "k" {
		t.Errorf("counter: %+v", o)
	}
	if o := byName["q"]; o == nil || o.Quota == nil || o.Quota.Bytes != 1000 || !o.Quota.Over {
		t.Errorf("quota: %+v", o)
	}
	if o := byName["l"]; o == nil || o.Type != ObjLimit || o.Limit == nil || o.Limit.Rate != 10 || o.Limit.Unit != time.Second {
		t.Errorf("limit: %+v", o)
	}

	// nfkit writes: a copy of each object under a new name prints like nft's.
	b := c.NewBatch()
	for _, o := range objs {
		cp := *o
		cp.Name = o.Name + "2"
		b.AddObject(&cp)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out := ns.Run(t, "nft", "list", "ruleset")
	for _, want := range []string{"counter cnt2 {\n\t\tcomment \"k\"", "quota q2 {\n\t\tover 1000 bytes", "limit l2 {\n\t\trate 10/second"} {
		if !strings.Contains(out, want) {
			t.Errorf("nft list ruleset lacks %q:\n%s", want, out)
		}
	}
	got, err := c.GetObject(ctx, FamilyINet, "t", "q2", ObjQuota)
	if err != nil || got.Quota == nil || got.Quota.Bytes != 1000 {
		t.Errorf("GetObject: %+v %v", got, err)
	}
}
