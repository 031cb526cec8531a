//go:build vmtest

package nft

// Flowtable tests against a kernel that has them. This machine's kernel
// (6.18) is built without CONFIG_NF_FLOW_TABLE, so every NEWFLOWTABLE is
// refused with ENOENT whatever the devices; Debian's kernel has
// nf_flow_table_inet as a module. Run in the VM runner:
//
//	go build -o /tmp/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -tags vmtest -exec /tmp/vmtest ./nft/
//
// Under the vmtest tag only the TestVM... tests run by default (TestMain):
// the rest of the suite targets the host kernel.

import (
	"context"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft/expr"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		_ = f.Value.Set("^TestVM")
	}
	os.Exit(m.Run())
}

// vmFlowtableNS returns a namespace with veth v0/v1 and a probe that the
// kernel supports flowtables.
func vmFlowtableNS(t *testing.T) (*Conn, *nstest.NS) {
	nstest.RequireTool(t, "nft")
	nstest.RequireTool(t, "ip")
	c, ns := testConn(t)
	if out, err := ns.Exec("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	if out, err := ns.Exec("nft", "add table inet probe; add flowtable inet probe f { hook ingress priority 0; devices = { v0 }; }"); err != nil {
		nstest.Unavailable(t, "kernel without flowtables: "+out)
	}
	ns.Run(t, "nft", "delete table inet probe")
	return c, ns
}

func TestVMFlowtableNftWritesNfkitReads(t *testing.T) {
	c, ns := vmFlowtableNS(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", `add table inet t; add flowtable inet t ft { hook ingress priority -5; devices = { v0, v1 }; counter; }
add chain inet t fw { type filter hook forward priority 0; }; add rule inet t fw ip protocol tcp flow add @ft`)
	// Lossless: every dumped flowtable re-encodes to the kernel's bytes.
	for _, raw := range rawDump(t, c, msgGetFlowtable, msgNewFlowtable) {
		var f Flowtable
		if err := f.unmarshal(FamilyINet, raw); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		f.marshal(&e, true)
		if !equalIgnoringNested(e.Buf, raw) {
			t.Errorf("re-encoded differs at %d\n got %x\nwant %x", firstDiff(e.Buf, raw), e.Buf, raw)
		}
	}
	fts, err := c.ListFlowtables(ctx, FamilyINet, "t")
	if err != nil || len(fts) != 1 {
		t.Fatalf("%v %v", fts, err)
	}
	f := fts[0]
	devs := slices.Sorted(slices.Values(f.Devices))
	if f.Name != "ft" || f.Priority != -5 || f.Flags != FlowtableCounter || strings.Join(devs, ",") != "v0,v1" || f.Handle == 0 || f.Use != 1 {
		t.Errorf("listed %+v", f)
	}
	got, err := c.GetFlowtable(ctx, FamilyINet, "t", "ft")
	if err != nil || got.Handle != f.Handle {
		t.Errorf("get: %+v %v", got, err)
	}
	// The rule's flow_offload expression decodes typed.
	rs, err := c.ListRules(ctx, RuleFilter{Family: FamilyINet, Table: "t", Chain: "fw"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	last := rs[0].Exprs[len(rs[0].Exprs)-1]
	if fo, ok := last.(*expr.FlowOffload); !ok || fo.Table != "ft" {
		t.Errorf("last expression %#v, want FlowOffload{ft}", last)
	}
}

func TestVMFlowtableNfkitWritesNftReads(t *testing.T) {
	c, ns := vmFlowtableNS(t)
	ctx := testCtx(t)
	mctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	events := make(chan Event, 64)
	go func() {
		defer close(events)
		for ev, err := range c.Monitor(mctx) {
			if err == nil && (ev.Kind == EventNewFlowtable || ev.Kind == EventDelFlowtable) {
				events <- ev
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription bind
	ft := &Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Priority: 10, Devices: []string{"v0"}, Flags: FlowtableCounter}
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyINet, Name: "t"})
	b.AddFlowtable(ft)
	b.AddChain(&Chain{Family: FamilyINet, Table: "t", Name: "fw", Type: ChainTypeFilter, Hook: HookForward})
	b.AddRule(&Rule{Family: FamilyINet, Table: "t", Chain: "fw", Exprs: []expr.Any{&expr.FlowOffload{Table: "ft"}}})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ft.Handle == 0 {
		t.Error("handle not filled in")
	}
	select {
	case ev := <-events:
		if ev.Kind != EventNewFlowtable || ev.Flowtable.Name != "ft" || ev.Flowtable.Priority != 10 {
			t.Errorf("monitor: %v %+v", ev.Kind, ev.Flowtable)
		}
	case <-mctx.Done():
		t.Error("no flowtable event")
	}
	out := ns.Run(t, "nft", "list", "ruleset")
	for _, want := range []string{"flowtable ft {", "hook ingress priority filter + 10", "devices = { v0 }", "counter", "flow add @ft"} {
		if !strings.Contains(out, want) {
			t.Errorf("nft list ruleset lacks %q:\n%s", want, out)
		}
	}
	// Add a device to the existing flowtable, then remove it again.
	b = c.NewBatch()
	b.AddFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Priority: 10, Devices: []string{"v1"}, Flags: FlowtableCounter})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "nft", "list", "flowtables"); !strings.Contains(out, "v0") || !strings.Contains(out, "v1") {
		t.Errorf("after adding v1:\n%s", out)
	}
	b = c.NewBatch()
	b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Devices: []string{"v1"}})
	switch err := b.Commit(ctx); {
	case errors.Is(err, unix.EOPNOTSUPP):
		// Some kernels (Debian's 6.1) refuse removing devices; nft
		// must be refused the same way.
		if out, err := ns.Exec("nft", "delete flowtable inet t ft { devices = { v1 }; }"); err == nil {
			t.Errorf("nfkit's device removal refused, nft's accepted: %s", out)
		}
	case err != nil:
		t.Fatal(err)
	default:
		if out := ns.Run(t, "nft", "list", "flowtables"); strings.Contains(out, "v1") {
			t.Errorf("v1 still listed:\n%s", out)
		}
	}
	// Deleting a referenced flowtable fails; after the rule goes, it works.
	b = c.NewBatch()
	b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft"})
	if err := b.Commit(ctx); err == nil {
		t.Error("deleting a flowtable still used by a rule succeeded")
	}
	b = c.NewBatch()
	b.FlushChain(&Chain{Family: FamilyINet, Table: "t", Name: "fw"})
	b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Handle: ft.Handle})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if out := ns.Run(t, "nft", "list", "flowtables"); strings.Contains(out, "flowtable ft") {
		t.Errorf("flowtable still listed:\n%s", out)
	}
}
