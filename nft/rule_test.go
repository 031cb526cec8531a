package nft

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
)

// nftChainBody returns the rule lines of `nft list chain` without handles.
func nftChainBody(t *testing.T, ns *nstest.NS, family, table, chain string) string {
	t.Helper()
	out := ns.Run(t, "nft", "list", "chain", family, table, chain)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "table ") || strings.HasPrefix(l, "chain ") || l == "}" {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// TestRuleDifferential: nft writes rules, nfkit lists them and writes the
// same expressions and comments into another chain; nft must print both
// chains identically.
func TestRuleDifferential(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", "-f", "testdata/broad.nft")

	b := c.NewBatch()
	type pair struct {
		fam             Family
		table, src, dst string
	}
	pairs := []pair{
		{FamilyINet, "filter", "input", "copy_input"},
		{FamilyINet, "filter", "sub", "copy_sub"},
		{FamilyIPv4, "nat", "post_c", "copy_post"},
	}
	for _, p := range pairs {
		b.AddChain(&Chain{Family: p.fam, Table: p.table, Name: p.dst})
	}
	var added []*Rule
	for _, p := range pairs {
		rules, err := c.ListRules(ctx, RuleFilter{Family: p.fam, Table: p.table, Chain: p.src})
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) == 0 {
			t.Fatalf("no rules in %s", p.src)
		}
		for _, r := range rules {
			if usesAnonSet(r) {
				// anonymous sets belong to their rule; copying one needs
				// the set copied too
				continue
			}
			r.Chain = p.dst
			b.AddRule(r) // the listed handle is dropped for Add
			added = append(added, r)
		}
	}
	old := map[*Rule]uint64{}
	for _, r := range added {
		old[r] = r.Handle
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range added {
		if r.Handle == 0 || r.Handle == old[r] {
			t.Errorf("%v: handle not updated (was %d)", r, old[r])
		}
	}
	for _, p := range pairs {
		want := nftChainBody(t, ns, p.fam.String(), p.table, p.src)
		got := nftChainBody(t, ns, p.fam.String(), p.table, p.dst)
		// a base chain's header line is not part of the rules
		want = strings.Join(dropHeader(strings.Split(want, "\n")), "\n")
		want = strings.ReplaceAll(want, "ip saddr 192.0.2.0/24 tcp dport { 22, 80, 443 } accept comment \"ssh and web\"\n", "")
		if got != want {
			t.Errorf("chain %s written by nfkit prints\n%s\nnft's own %s prints\n%s", p.dst, got, p.src, want)
		}
	}
	// the comment came through the user data as nft reads it
	if body := nftChainBody(t, ns, "inet", "filter", "copy_input"); !strings.Contains(body, `comment "loopback"`) {
		t.Errorf("comment missing:\n%s", body)
	}
}

func dropHeader(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "type ") || strings.HasPrefix(l, "comment \"base chain\"") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestRulePositions covers insert/add with positions, replace and delete by
// handle, and handles coming back from the commit.
func TestRulePositions(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", "add table ip t; add chain ip t c; add rule ip t c counter")
	tmpl, err := c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "t", Chain: "c"})
	if err != nil || len(tmpl) != 1 {
		t.Fatalf("%v %v", tmpl, err)
	}
	counter := tmpl[0].Exprs
	mk := func(comment string) *Rule {
		return &Rule{Family: FamilyIPv4, Table: "t", Chain: "c", Exprs: counter, Comment: comment}
	}
	r1, r2 := mk("one"), mk("two")
	b := c.NewBatch()
	b.AddRule(r1)
	b.AddRule(r2)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r1.Handle == 0 || r2.Handle == 0 || r1.Handle == r2.Handle {
		t.Fatalf("handles %d %d", r1.Handle, r2.Handle)
	}
	first := mk("first")
	mid := mk("between")
	mid.Position = r1.Handle
	after := mk("after one")
	after.Position = r1.Handle
	b = c.NewBatch()
	b.InsertRule(first)
	b.InsertRule(mid)
	b.AddRule(after)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b = c.NewBatch()
	b.DeleteRule(tmpl[0])
	r2.Comment = "two replaced"
	b.ReplaceRule(r2)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	rules, err := c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "t", SkipExprs: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		if r.Exprs != nil || len(r.RawExprs()) == 0 {
			t.Errorf("SkipExprs: %v %d", r.Exprs, len(r.RawExprs()))
		}
		got = append(got, r.Comment)
	}
	want := "first between one after one two replaced"
	if strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	if body := nftChainBody(t, ns, "ip", "t", "c"); !strings.Contains(body, `counter packets 0 bytes 0 comment "between"`) {
		t.Errorf("nft shows:\n%s", body)
	}
}

// TestBatchAtomicFailure: a failing operation rolls back the whole batch
// and the error names it.
func TestBatchAtomicFailure(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	b.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
	b.AddChain(&Chain{Family: FamilyIPv4, Table: "t", Name: "c"})
	b.AddRule(&Rule{Family: FamilyIPv4, Table: "t", Chain: "missing"})
	err := b.Commit(ctx)
	var ne *Error
	if !errors.As(err, &ne) {
		t.Fatalf("want *Error, got %v", err)
	}
	if ne.Index != 2 || ne.Op != "add rule" || !strings.Contains(ne.Object, "missing") {
		t.Errorf("error %+v", ne)
	}
	if !errors.Is(err, unix.ENOENT) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is ENOENT: %v", err)
	}
	if out := ns.Run(t, "nft", "list", "ruleset"); out != "" {
		t.Errorf("ruleset changed:\n%s", out)
	}
	// Create on an existing table: EEXIST, index 1.
	b = c.NewBatch()
	b.AddTable(&Table{Family: FamilyIPv4, Name: "x"})
	b.CreateTable(&Table{Family: FamilyIPv4, Name: "x"})
	err = b.Commit(ctx)
	if !errors.As(err, &ne) || ne.Index != 1 || !errors.Is(err, fs.ErrExist) {
		t.Errorf("create existing: %v", err)
	}
}

func TestGenerationConflict(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	g, err := c.GetGen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns.Run(t, "nft", "add table ip other")
	b := c.NewBatch()
	b.Gen = g.ID
	b.AddTable(&Table{Family: FamilyIPv4, Name: "mine"})
	err = b.Commit(ctx)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
	if _, err := c.GetTable(ctx, FamilyIPv4, "mine"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("table applied despite conflict: %v", err)
	}
	g2, err := c.GetGen(ctx)
	if err != nil || g2.ID == g.ID {
		t.Fatalf("generation did not move: %v %v", g2, err)
	}

	// Retry: the first build races with another writer, the second wins.
	calls := 0
	err = c.Retry(ctx, 3, func(_ context.Context, b *Batch) error {
		calls++
		if calls == 1 {
			ns.Run(t, "nft", "add table ip racer")
		}
		b.AddTable(&Table{Family: FamilyIPv4, Name: "mine"})
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("Retry: %v after %d builds", err, calls)
	}
	if _, err := c.GetTable(ctx, FamilyIPv4, "mine"); err != nil {
		t.Error(err)
	}
}

func usesAnonSet(r *Rule) bool {
	for _, e := range r.Exprs {
		if e.Name() == "lookup" {
			return true
		}
	}
	return false
}
