package nft

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

func TestTableRoundTripWithNft(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)

	tbl := &Table{Family: FamilyINet, Name: "t1", Comment: "hello world"}
	b := c.NewBatch()
	b.AddTable(tbl)
	b.AddTable(&Table{Family: FamilyIPv4, Name: "t2", Flags: TableDormant})
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if tbl.Handle == 0 {
		t.Errorf("handle not echoed back")
	}
	out := ns.Run(t, "nft", "list", "ruleset")
	if !strings.Contains(out, "table inet t1 {\n\tcomment \"hello world\"\n}") {
		t.Errorf("nft list ruleset:\n%s", out)
	}
	if !strings.Contains(out, "table ip t2 {\n\tflags dormant\n}") {
		t.Errorf("nft list ruleset:\n%s", out)
	}

	// nft writes, nfkit reads.
	ns.Run(t, "nft", "add table ip6 t3 { comment \"from nft\"; }")
	got, err := c.GetTable(ctx, FamilyIPv6, "t3")
	if err != nil {
		t.Fatal(err)
	}
	if got.Comment != "from nft" || got.Family != FamilyIPv6 {
		t.Errorf("got %+v", got)
	}
	tables, err := c.ListTables(ctx, FamilyUnspec)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]*Table{}
	for _, x := range tables {
		names[x.Family.String()+" "+x.Name] = x
	}
	if len(tables) != 3 || names["inet t1"] == nil || names["ip t2"] == nil || names["ip6 t3"] == nil {
		t.Fatalf("tables: %v", tables)
	}
	if names["inet t1"].Handle != tbl.Handle {
		t.Errorf("handle %d, echoed %d", names["inet t1"].Handle, tbl.Handle)
	}
	if names["ip t2"].Flags != TableDormant {
		t.Errorf("flags %v", names["ip t2"].Flags)
	}

	_, err = c.GetTable(ctx, FamilyIPv4, "missing")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GetTable missing: %v", err)
	}
}
