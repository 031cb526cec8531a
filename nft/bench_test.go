package nft

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft/expr"
)

// Side-by-side benchmarks against the nft binary on the same ruleset, in a
// throwaway namespace; read the ratios off one run:
//
//	go test ./nft -run XXX -bench . -benchtime 5x

const (
	benchChains = 2000
	benchRules  = 20000
)

// benchRuleExprs returns the expressions of `tcp dport 22 accept` as nft
// writes them (listed from the kernel, so no expression types are needed).
func benchRuleExprs(b *testing.B, c *Conn, ns *nstest.NS) []expr.Any {
	ns.Run(b, "nft", "add table inet probe; add chain inet probe c; add rule inet probe c tcp dport 22 accept")
	rs, err := c.ListRules(b.Context(), RuleFilter{Family: FamilyINet, Table: "probe"})
	if err != nil || len(rs) != 1 {
		b.Fatalf("probe rule: %v %v", rs, err)
	}
	ns.Run(b, "nft", "delete table inet probe")
	return rs[0].Exprs
}

func benchRulesetText(chains, rules int) string {
	var sb strings.Builder
	sb.WriteString("table inet bench {\n")
	for i := range chains {
		fmt.Fprintf(&sb, "chain c%d {\n", i)
		for range rules / chains {
			sb.WriteString("tcp dport 22 accept\n")
		}
		sb.WriteString("}\n")
	}
	sb.WriteString("}\n")
	return sb.String()
}

func benchBatch(c *Conn, exprs []expr.Any, chains, rules int) *Batch {
	b := c.NewBatch()
	b.NoEcho = true
	b.AddTable(&Table{Family: FamilyINet, Name: "bench"})
	for i := range chains {
		name := fmt.Sprintf("c%d", i)
		b.AddChain(&Chain{Family: FamilyINet, Table: "bench", Name: name})
		for range rules / chains {
			b.AddRule(&Rule{Family: FamilyINet, Table: "bench", Chain: name, Exprs: exprs})
		}
	}
	return b
}

func BenchmarkCommit20kRules(b *testing.B) {
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	text := benchRulesetText(benchChains, benchRules)
	flush := func() {
		b.StopTimer()
		ns.Run(b, "nft", "flush ruleset")
		b.StartTimer()
	}
	b.Run("nfkit", func(b *testing.B) {
		for b.Loop() {
			flush()
			if err := benchBatch(c, exprs, benchChains, benchRules).Commit(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nft-f", func(b *testing.B) {
		for b.Loop() {
			flush()
			ns.RunInput(b, text, "nft", "-f", "-")
		}
	})
}

func loadBench(b *testing.B) (*Conn, *nstest.NS, []expr.Any) {
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	ns.RunInput(b, benchRulesetText(benchChains, benchRules), "nft", "-f", "-")
	return c, ns, exprs
}

func BenchmarkList20kRules(b *testing.B) {
	c, ns, _ := loadBench(b)
	b.Run("nfkit", func(b *testing.B) {
		benchListRules(b, c, listAuto, RuleFilter{Family: FamilyINet, Table: "bench"}, benchRules)
	})
	// The single table-wide dump nfkit used before listing chain by chain
	// (what AllRules still does for tables with few chains): before and
	// after in one run.
	b.Run("nfkit-one-dump", func(b *testing.B) {
		benchListRules(b, c, listOneDump, RuleFilter{Family: FamilyINet, Table: "bench"}, benchRules)
	})
	b.Run("nfkit-skip-exprs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs, err := c.ListRules(b.Context(), RuleFilter{Family: FamilyINet, SkipExprs: true})
			if err != nil || len(rs) != benchRules {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("nft-j", func(b *testing.B) {
		for b.Loop() {
			ns.Run(b, "nft", "-j", "list", "ruleset")
		}
	})
	// Interleaved: both listings in every iteration, so the ratio is
	// measured under the same machine load (the target: nfkit at
	// least 3x faster than nft -j).
	b.Run("ratio-vs-nft-j", func(b *testing.B) {
		var ours, theirs time.Duration
		for b.Loop() {
			t0 := time.Now()
			rs, err := c.ListRules(b.Context(), RuleFilter{Family: FamilyINet, Table: "bench"})
			if err != nil || len(rs) != benchRules {
				b.Fatal(len(rs), err)
			}
			t1 := time.Now()
			ns.Run(b, "nft", "-j", "list", "ruleset")
			ours, theirs = ours+t1.Sub(t0), theirs+time.Since(t1)
		}
		b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "nfkit-ms")
		b.ReportMetric(float64(theirs.Milliseconds())/float64(b.N), "nft-j-ms")
		b.ReportMetric(float64(theirs)/float64(ours), "x-faster")
	})
}

// benchListRules lists the rules f selects with the given strategy and
// reports the cost per rule.
func benchListRules(b *testing.B, c *Conn, mode listMode, f RuleFilter, want int) {
	c.listMode = mode
	defer func() { c.listMode = listAuto }()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range c.AllRules(b.Context(), f) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("%d rules, want %d", n, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*want), "µs/rule")
}

// BenchmarkList220kRules is bench/'s large scale: 220 000 rules in 20 000
// chains (11 per chain, as in BenchmarkList20kRules), listed chain by
// chain, with a single table-wide dump (quadratic in the kernel), and by
// nft -j. Compare its µs/rule with BenchmarkList20kRules' to see the
// per-chain listing stay flat. Takes a few minutes:
//
//	go test ./nft -run XXX -bench 'List220kRules' -benchmem -benchtime 1x
func BenchmarkList220kRules(b *testing.B) {
	const chains, rules = 20000, 220000
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	if err := benchBatch(c, exprs, chains, rules).Commit(b.Context()); err != nil {
		b.Fatal(err)
	}
	f := RuleFilter{Family: FamilyINet, Table: "bench"}
	b.Run("nfkit", func(b *testing.B) { benchListRules(b, c, listAuto, f, rules) })
	b.Run("nfkit-skip-exprs", func(b *testing.B) {
		benchListRules(b, c, listAuto, RuleFilter{Family: FamilyINet, SkipExprs: true}, rules)
	})
	b.Run("nfkit-one-dump", func(b *testing.B) { benchListRules(b, c, listOneDump, f, rules) })
	b.Run("nft-j", func(b *testing.B) {
		for b.Loop() {
			ns.Run(b, "nft", "-j", "list", "ruleset")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*rules), "µs/rule")
	})
}

// BenchmarkListChainsCrossover measures where listing chain by chain
// starts to beat one table-wide dump, which sets perChainAfter: tables of N
// chains of R rules, listed both ways in every iteration (alternating
// which goes first, so both see the same machine load); by-chain/one-dump
// below 1 means chain by chain is faster.
//
//	go test ./nft -run XXX -bench 'ListChainsCrossover' -benchtime 200x
func BenchmarkListChainsCrossover(b *testing.B) {
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	list := func(b *testing.B, mode listMode, want int) time.Duration {
		c.listMode = mode
		defer func() { c.listMode = listAuto }()
		t0 := time.Now()
		n := 0
		for _, err := range c.AllRules(b.Context(), RuleFilter{Family: FamilyINet, Table: "bench"}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("%d rules, want %d", n, want)
		}
		return time.Since(t0)
	}
	for _, shape := range [][2]int{{2, 10}, {4, 10}, {8, 10}, {16, 10}, {32, 10}, {64, 10}, {256, 10},
		{2, 1000}, {4, 1000}, {8, 1000}, {500, 11}, {2000, 11}, {5000, 11}, {10000, 11}} {
		chains, rules := shape[0], shape[0]*shape[1]
		ns.Run(b, "nft", "flush ruleset")
		if err := benchBatch(c, exprs, chains, rules).Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dx%d", chains, shape[1]), func(b *testing.B) {
			var one, by, seq, auto time.Duration
			i := 0
			for b.Loop() {
				if i++; i%2 == 0 {
					one += list(b, listOneDump, rules)
					by += list(b, listByChain, rules)
					auto += list(b, listAuto, rules)
					c.sockets = 1
					seq += list(b, listByChain, rules)
					c.sockets = 0
				} else {
					c.sockets = 1
					seq += list(b, listByChain, rules)
					c.sockets = 0
					auto += list(b, listAuto, rules)
					by += list(b, listByChain, rules)
					one += list(b, listOneDump, rules)
				}
			}
			b.ReportMetric(float64(one.Microseconds())/float64(b.N), "one-dump-µs")
			b.ReportMetric(float64(by)/float64(one), "by-chain/one-dump")
			b.ReportMetric(float64(seq)/float64(one), "by-chain-1-socket/one-dump")
			b.ReportMetric(float64(auto)/float64(one), "auto/one-dump")
		})
	}
}

// BenchmarkDecodeRule is the user-space half of a listing: decoding one
// dumped `tcp dport 22 accept` rule (no kernel in the loop).
func BenchmarkDecodeRule(b *testing.B) {
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	r := &Rule{Family: FamilyINet, Table: "bench", Chain: "c0", Handle: 7, Exprs: exprs}
	var e attr.Writer
	if err := r.marshal(&e, true); err != nil {
		b.Fatal(err)
	}
	var rd ruleDecoder
	b.ReportAllocs()
	for b.Loop() {
		var got Rule
		if err := rd.decode(&got, FamilyINet, e.Buf, false); err != nil || len(got.Exprs) != len(exprs) {
			b.Fatal(err, got.Exprs)
		}
	}
}

func BenchmarkAdd100kElements(b *testing.B) {
	const n = 100000
	c, ns := testConn(b)
	var sb strings.Builder
	sb.WriteString("add table ip t\nadd set ip t s { type ipv4_addr . inet_service; }\nadd element ip t s { ")
	elems := make([]Element, n)
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		elems[i] = Element{Key: Concat{a, uint16(80)}}
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s . 80", a)
	}
	sb.WriteString(" }\n")
	text := sb.String()
	flush := func() {
		b.StopTimer()
		ns.Run(b, "nft", "flush ruleset")
		b.StartTimer()
	}
	b.Run("nfkit", func(b *testing.B) {
		for b.Loop() {
			flush()
			bt := c.NewBatch()
			bt.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
			s := &Set{Family: FamilyIPv4, Table: "t", Name: "s", KeyType: []DataType{TypeIPv4Addr, TypeInetService}}
			bt.AddSet(s)
			bt.AddElements(s, elems...)
			if err := bt.Commit(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nft-f", func(b *testing.B) {
		for b.Loop() {
			flush()
			ns.RunInput(b, text, "nft", "-f", "-")
		}
	})
}

// BenchmarkOneRuleTransaction: add one rule to a table holding 20 000
// rules; reports the median latency.
func BenchmarkOneRuleTransaction(b *testing.B) {
	c, ns, exprs := loadBench(b)
	b.Run("nfkit", func(b *testing.B) {
		var d []time.Duration
		for b.Loop() {
			t0 := time.Now()
			bt := c.NewBatch()
			bt.AddRule(&Rule{Family: FamilyINet, Table: "bench", Chain: "c0", Exprs: exprs})
			if err := bt.Commit(b.Context()); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		b.ReportMetric(float64(median(d).Microseconds()), "median-µs")
	})
	b.Run("nft", func(b *testing.B) {
		var d []time.Duration
		for b.Loop() {
			t0 := time.Now()
			ns.Run(b, "nft", "add rule inet bench c0 tcp dport 22 accept")
			d = append(d, time.Since(t0))
		}
		b.ReportMetric(float64(median(d).Microseconds()), "median-µs")
	})
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkCommit200kRules and BenchmarkAdd1MElements are the size limits
// of the issue: one transaction each, no ENOBUFS or buffer trouble.
func BenchmarkCommit200kRules(b *testing.B) {
	c, ns := testConn(b)
	exprs := benchRuleExprs(b, c, ns)
	for b.Loop() {
		b.StopTimer()
		ns.Run(b, "nft", "flush ruleset")
		bt := benchBatch(c, exprs, 2000, 200000)
		b.StartTimer()
		if err := bt.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rs, err := c.ListRules(b.Context(), RuleFilter{Family: FamilyINet, SkipExprs: true})
	if err != nil || len(rs) != 200000 {
		b.Fatalf("%d rules after commit: %v", len(rs), err)
	}
}

func BenchmarkAdd1MElements(b *testing.B) {
	const n = 1000000
	c, ns := testConn(b)
	elems := make([]Element, n)
	for i := range n {
		elems[i] = Element{Key: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
	}
	for b.Loop() {
		b.StopTimer()
		ns.Run(b, "nft", "flush ruleset")
		b.StartTimer()
		bt := c.NewBatch()
		bt.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
		s := &Set{Family: FamilyIPv4, Table: "t", Name: "s", KeyType: []DataType{TypeIPv4Addr}}
		bt.AddSet(s)
		bt.AddElements(s, elems...)
		if err := bt.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s, err := c.GetSet(b.Context(), FamilyIPv4, "t", "s")
	if err != nil {
		b.Fatal(err)
	}
	got := 0
	for _, err := range c.AllElements(b.Context(), s) {
		if err != nil {
			b.Fatal(err)
		}
		got++
	}
	if got != n {
		b.Fatalf("%d elements after commit, want %d", got, n)
	}
}
