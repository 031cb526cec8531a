package expr_test

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft/expr"
)

var update = flag.Bool("update", false, "rewrite testdata/kernel_rules.txt from the kernel captures")

// kcase is one rule written by a reference tool and the expressions we
// expect to decode from the kernel's dump of it.
type kcase struct {
	name   string
	family string   // nft family word
	rule   string   // nft rule text (after "add rule FAMILY t c")
	setup  []string // nft commands run before the rule
	// ipt, when set, writes the rule with this iptables-nft command
	// instead, and the rule is read from iptTable/iptChain.
	ipt                []string
	iptTable, iptChain string
	want               []expr.Any
	// noKernel: the kernel here lacks the expression; fixture only.
	noKernel bool
}

const fixtureFile = "testdata/kernel_rules.txt"

// checkRoundTrip decodes the kernel's bytes, compares with want and
// checks that encoding the result gives the kernel's bytes back (up to
// NLA_F_NESTED, which the kernel does not set on dumps and Encode does).
func checkRoundTrip(t *testing.T, b []byte, want []expr.Any) {
	t.Helper()
	got, err := expr.Decode(b)
	require.NoError(t, err)
	if want == nil {
		// Shape not spelled out: every expression must still decode
		// typed (no Raw) and re-encode exactly.
		for i, e := range got {
			_, raw := e.(*expr.Raw)
			require.False(t, raw, "expression %d (%s) stayed Raw:\n%s", i, e.Name(), hex.Dump(b))
		}
	} else {
		require.Equal(t, want, got, "decoded expressions; kernel bytes:\n%s", hex.Dump(b))
	}
	enc, err := expr.Encode(got)
	require.NoError(t, err)
	require.True(t, expr.SameAttrs(enc, b), "re-encoded bytes differ:\nkernel:\n%s\nours:\n%s", hex.Dump(b), hex.Dump(enc))
	again, err := expr.Decode(enc)
	require.NoError(t, err)
	require.Equal(t, got, again)
}

// TestKernelBytes writes every case with the real tool in a throwaway
// namespace, dumps the rule over netlink and checks decode and re-encode.
func TestKernelBytes(t *testing.T) {
	nstest.RequireTool(t, "nft")
	ns := nstest.New(t)
	var mu sync.Mutex
	captured := map[string]string{}
	for _, c := range allCases() {
		if c.noKernel {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var b []byte
			if c.ipt != nil {
				ns.Exec("nft", "flush", "ruleset")
				ns.Run(t, "iptables-nft", c.ipt...)
				fam := "ip"
				if c.family != "" {
					fam = c.family
				}
				rules := dumpRules(t, ns, familyNum(fam), c.iptTable, c.iptChain)
				require.Len(t, rules, 1)
				b = rules[0]
			} else {
				b = nftRuleExprs(t, ns, c.family, c.rule, c.setup...)
			}
			mu.Lock()
			captured[c.name] = hex.EncodeToString(b)
			mu.Unlock()
			checkRoundTrip(t, b, c.want)
		})
	}
	if *update {
		old := readFixtures(t)
		for k, v := range captured {
			old[k] = v
		}
		writeFixtures(t, old)
	}
}

// TestFixtureBytes runs the same checks on the stored captures, without
// root: this is how the expressions the kernel here lacks (queue, bridge
// reject and meta) are covered.
func TestFixtureBytes(t *testing.T) {
	fx := readFixtures(t)
	n := 0
	for _, c := range allCases() {
		h, ok := fx[c.name]
		if !ok {
			if c.noKernel {
				t.Errorf("%s: no fixture and no kernel support", c.name)
			}
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(h)
			require.NoError(t, err)
			checkRoundTrip(t, b, c.want)
		})
	}
	require.NotZero(t, n, "no fixtures in %s", fixtureFile)
}

func readFixtures(t *testing.T) map[string]string { return readFixturesTB(t) }

func readFixturesTB(t testing.TB) map[string]string {
	t.Helper()
	m := map[string]string{}
	f, err := os.Open(fixtureFile)
	if os.IsNotExist(err) {
		return m
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, ok := strings.Cut(line, " ")
		require.True(t, ok, "bad fixture line %q", line)
		m[name] = h
	}
	require.NoError(t, sc.Err())
	return m
}

func writeFixtures(t *testing.T, m map[string]string) {
	t.Helper()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	sb.WriteString("# NFTA_RULE_EXPRESSIONS as dumped by Linux 6.18 for rules written by nft 1.0.6 /\n")
	sb.WriteString("# iptables-nft 1.8.9 (see kernel_test.go); refresh with go test -run TestKernelBytes -update\n")
	for _, k := range names {
		fmt.Fprintf(&sb, "%s %s\n", k, m[k])
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(fixtureFile), 0o755))
	require.NoError(t, os.WriteFile(fixtureFile, []byte(sb.String()), 0o644))
}
