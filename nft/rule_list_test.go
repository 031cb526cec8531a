package nft

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// manyChainsRuleset is testdata/broad.nft plus a table of 40 chains (more
// than a few) holding 0 to 300 rules each (300 rules span several
// dump datagrams and chunks), a base chain, jumps, an anonymous bound
// chain and comments.
func manyChainsRuleset() string {
	var sb strings.Builder
	sb.WriteString("table ip many {\n")
	for i := range 40 {
		fmt.Fprintf(&sb, "chain c%02d {\n", i)
		if i == 3 {
			sb.WriteString("type filter hook input priority 0; policy accept;\n")
		}
		n := (i * 7) % 13
		if i == 5 {
			n = 300
		}
		for k := range n {
			fmt.Fprintf(&sb, "ip saddr 192.0.2.%d tcp dport %d counter accept comment \"r%d\"\n", k%250, 1000+k, k)
		}
		if i == 7 {
			sb.WriteString("jump { udp dport 53 accept; }\n")
		}
		if i > 0 && i%10 == 0 {
			fmt.Fprintf(&sb, "jump c%02d\n", i-1)
		}
		sb.WriteString("}\n")
	}
	sb.WriteString("}\n")
	return sb.String()
}

func listWith(t *testing.T, c *Conn, mode listMode, switchAt int, f RuleFilter) []*Rule {
	t.Helper()
	c.listMode, c.switchAt = mode, switchAt
	defer func() { c.listMode, c.switchAt = listAuto, 0 }()
	rs, err := c.ListRules(testCtx(t), f)
	if err != nil {
		t.Fatalf("mode %d %+v: %v", mode, f, err)
	}
	return rs
}

// TestListRulesPathsAgree: the single dump and the chain-by-chain listing
// return the same rules in the same order, for a table, a family and the
// whole ruleset, with and without expressions.
func TestListRulesPathsAgree(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ns.Run(t, "nft", "-f", "testdata/broad.nft")
	ns.RunInput(t, manyChainsRuleset(), "nft", "-f", "-")
	filters := []RuleFilter{
		{Family: FamilyIPv4, Table: "many"},
		{Family: FamilyIPv4},
		{},
		{Family: FamilyINet, Table: "filter"},
		{Family: FamilyIPv4, Table: "many", SkipExprs: true},
		{SkipExprs: true},
	}
	for _, f := range filters {
		one := listWith(t, c, listOneDump, 0, f)
		if len(one) == 0 {
			t.Fatalf("%+v: nothing listed", f)
		}
		if auto := listWith(t, c, listAuto, 0, f); !reflect.DeepEqual(one, auto) {
			t.Errorf("%+v: single dump and auto differ: %s", f, firstRuleDiff(one, auto))
		}
		// Chain by chain from the start, and switching after the first
		// rule, inside the 300-rule chain (several datagrams into the
		// first dump), at the end of a chain, and at the last rule.
		for _, at := range []int{0, 1, 18, 100, 200, 318, len(one) - 1, len(one)} {
			by := listWith(t, c, listByChain, at, f)
			if !reflect.DeepEqual(one, by) {
				t.Errorf("%+v, switching after %d: single dump %d rules, per chain %d; first difference %s",
					f, at, len(one), len(by), firstRuleDiff(one, by))
			}
		}
	}
	// The anonymous chain's rule is listed under its own chain.
	all := listWith(t, c, listByChain, 0, RuleFilter{Family: FamilyIPv4, Table: "many"})
	want := 0
	for i := range 40 {
		n := (i * 7) % 13
		if i == 5 {
			n = 300
		}
		want += n
		if i == 7 {
			want += 2 // the jump and the bound chain's rule
		}
		if i > 0 && i%10 == 0 {
			want++
		}
	}
	if len(all) != want {
		t.Fatalf("listed %d rules, want %d", len(all), want)
	}
	// Kernel (and nft list ruleset) order: chains in creation order.
	last := ""
	for _, r := range all {
		if r.Chain != last && strings.HasPrefix(r.Chain, "c") && r.Chain < last && strings.HasPrefix(last, "c") {
			t.Fatalf("chain %s listed after %s", r.Chain, last)
		}
		last = r.Chain
	}
}

func firstRuleDiff(a, b []*Rule) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("rule %d: %v %s/%d vs %v %s/%d", i, a[i], a[i].Chain, a[i].Handle, b[i], b[i].Chain, b[i].Handle)
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(a), len(b))
}

// TestListRulesGenerationRetry: a commit from another socket between the
// chain list and the rule dumps is detected by the generation check;
// ListRules retries and returns the new ruleset, AllRules reports
// ErrDumpInterrupted at its end, and a ruleset that changes on every
// attempt fails after the bounded retries.
func TestListRulesGenerationRetry(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.RunInput(t, manyChainsRuleset(), "nft", "-f", "-")
	other, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before, err := c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := before[0]
	// Switch to per-chain dumps inside the 300-rule chain c05.
	c.listMode, c.switchAt = listByChain, 100
	addRule := func() {
		b := other.NewBatch()
		b.AddRule(&Rule{Family: FamilyIPv4, Table: "many", Chain: "c39", Exprs: tmpl.Exprs, Comment: "added"})
		if err := b.Commit(ctx); err != nil {
			t.Error(err)
		}
	}

	calls := 0
	c.hookChains = func() {
		if calls++; calls == 1 {
			addRule()
		}
	}
	got, err := c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("listing ran %d times, want 2 (one interrupted, one clean)", calls)
	}
	added := 0
	for _, r := range got {
		if r.Comment == "added" && r.Chain == "c39" {
			added++
		}
	}
	if len(got) != len(before)+1 || added != 1 {
		t.Fatalf("after retry: %d rules (before %d), %d added rules listed", len(got), len(before), added)
	}

	// AllRules yields what it listed, then ErrDumpInterrupted.
	c.hookChains = addRule
	n, last := 0, error(nil)
	for _, err := range c.AllRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"}) {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	if !errors.Is(last, ErrDumpInterrupted) {
		t.Fatalf("AllRules after a concurrent commit: %v, want ErrDumpInterrupted", last)
	}
	if n < len(got) {
		t.Errorf("AllRules yielded %d rules, want at least %d", n, len(got))
	}

	// Chain by chain from the start: the same.
	c.switchAt = 0
	c.hookChains = addRule
	last = nil
	for _, err := range c.AllRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"}) {
		last = err
	}
	if !errors.Is(last, ErrDumpInterrupted) {
		t.Fatalf("AllRules chain by chain after a concurrent commit: %v, want ErrDumpInterrupted", last)
	}

	// A ruleset changing on every attempt: bounded retries.
	calls = 0
	c.hookChains = func() { calls++; addRule() }
	if _, err := c.ListRules(ctx, RuleFilter{Family: FamilyIPv4}); !errors.Is(err, ErrDumpInterrupted) {
		t.Fatalf("ListRules under constant change: %v, want ErrDumpInterrupted", err)
	}
	if calls != dumpRetries {
		t.Errorf("%d attempts, want %d", calls, dumpRetries)
	}

	// A chain deleted after the chain list is a change too; so is the
	// chain the first dump stopped in (c05).
	c.switchAt = 100
	calls = 0
	c.hookChains = func() {
		if calls++; calls == 1 {
			ns.Run(t, "nft", "delete chain ip many c01")
		}
	}
	got, err = c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"})
	c.hookChains = nil
	if err != nil {
		t.Fatalf("after a chain was deleted mid-listing, the retry should succeed: %v", err)
	}
	if calls != 2 {
		t.Errorf("listing ran %d times, want 2", calls)
	}
	for _, r := range got {
		if r.Chain == "c01" {
			t.Fatalf("deleted chain listed: %v", r)
		}
	}
	calls = 0
	c.hookChains = func() {
		if calls++; calls == 1 {
			ns.Run(t, "nft", "flush chain ip many c05; delete chain ip many c05")
		}
	}
	got, err = c.ListRules(ctx, RuleFilter{Family: FamilyIPv4, Table: "many"})
	c.hookChains = nil
	if err != nil || calls != 2 {
		t.Fatalf("after the current chain was deleted: %v, %d attempts", err, calls)
	}
	for _, r := range got {
		if r.Chain == "c05" {
			t.Fatalf("deleted chain listed: %v", r)
		}
	}
}

// TestListRulesStopsCleanly: breaking out of a per-chain listing, or
// cancelling its context, leaves no goroutine behind and the Conn (and its
// pooled sockets) usable.
func TestListRulesStopsCleanly(t *testing.T) {
	nstest.RequireTool(t, "nft")
	c, ns := testConn(t)
	ns.RunInput(t, manyChainsRuleset(), "nft", "-f", "-")
	f := RuleFilter{Family: FamilyIPv4, Table: "many"}
	c.listMode, c.switchAt = listByChain, 50 // break in the first dump and after the switch
	want, err := c.ListRules(testCtx(t), f)
	if err != nil {
		t.Fatal(err)
	}
	goroutines := runtime.NumGoroutine()
	for _, stopAt := range []int{0, 1, 70, 200, 400} {
		n := 0
		for r, err := range c.AllRules(testCtx(t), f) {
			if err != nil {
				t.Fatal(err)
			}
			if r.Handle != want[n].Handle {
				t.Fatalf("rule %d: handle %d, want %d", n, r.Handle, want[n].Handle)
			}
			if n == stopAt {
				break
			}
			n++
		}
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	n := 0
	var last error
	for _, err := range c.AllRules(ctx, f) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 100 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("after cancel: %v after %d rules, want context.Canceled", last, n)
	}
	waitGoroutines(t, goroutines)
	got, err := c.ListRules(testCtx(t), f)
	if err != nil || len(got) != len(want) {
		t.Fatalf("listing after break/cancel: %d rules, %v", len(got), err)
	}
	c.poolMu.Lock()
	idle := len(c.idle)
	c.poolMu.Unlock()
	if idle == 0 || idle > dumpSockets {
		t.Errorf("%d idle sockets, want 1..%d", idle, dumpSockets)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.idle) != 0 {
		t.Errorf("Close left %d sockets", len(c.idle))
	}
}

// waitGoroutines waits for the goroutine count to come back to n: the
// runtime may take a moment to retire exited goroutines.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
