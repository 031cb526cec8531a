package netlab

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/iptables"
)

// kube-proxy's hairpin rule, as iptables-nft-save prints it.
const loopBackRule = `-A KUBE-POSTROUTING -m comment --comment hairpin -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`

func setMatchNS(t *testing.T) *nstest.NS {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ipset")
	nstest.RequireTool(t, "iptables-nft")
	ns := nstest.New(t)
	ns.Run(t, "ipset", "create", "OTHER", "hash:ip")
	ns.Run(t, "ipset", "create", "KUBE-LOOP-BACK", "hash:ip,port,ip")
	ns.Run(t, "iptables-nft", "-t", "nat", "-N", "KUBE-POSTROUTING")
	return ns
}

// iptables-nft writes the rule; nfkit reads it back and must find exactly
// the bytes SetMatch builds, and SetMatchText must print iptables-save's
// words.
func TestSetMatchReadsIptablesNft(t *testing.T) {
	ns := setMatchNS(t)
	args := []string{"-t", "nat"}
	args = append(args, strings.Fields(loopBackRule)...)
	ns.Run(t, "iptables-nft", args...)

	ic, err := iptables.Dial(&iptables.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer ic.Close()
	rules, err := ic.ListRules(context.Background(), iptables.IPv4, "nat", "KUBE-POSTROUTING")
	require.NoError(t, err)
	require.Len(t, rules, 1)
	require.Len(t, rules[0].Matches, 2)
	// The iptables package now reads set matches typed, with the name
	// resolved; SetMatch's bytes must still equal iptables-nft's.
	got, ok := rules[0].Matches[1].(*iptables.Set)
	require.True(t, ok, "set match read as %T", rules[0].Matches[1])
	require.Equal(t, "KUBE-LOOP-BACK", got.Ref.Name)
	require.Equal(t, []iptables.SetDir{iptables.SetDst, iptables.SetDst, iptables.SetSrc}, got.Ref.Dirs)

	idx, err := SetIndex(ns, "KUBE-LOOP-BACK")
	require.NoError(t, err)
	require.Equal(t, uint16(1), idx, "second set created gets index 1")
	gotIdx, ok := got.Ref.Index()
	require.True(t, ok)
	require.Equal(t, idx, gotIdx)
	want, err := SetMatch(idx, false, "dst", "dst", "src")
	require.NoError(t, err)
	raw := &iptables.Rule{Family: iptables.IPv4, Table: "nat", Chain: "KUBE-POSTROUTING", Matches: []iptables.Match{want}}
	typed := &iptables.Rule{Family: iptables.IPv4, Table: "nat", Chain: "KUBE-POSTROUTING", Matches: []iptables.Match{got}}
	require.NoError(t, ic.Append(context.Background(), iptables.IPv4, raw))
	require.NoError(t, ic.Append(context.Background(), iptables.IPv4, typed))
	again, err := ic.ListRules(context.Background(), iptables.IPv4, "nat", "KUBE-POSTROUTING")
	require.NoError(t, err)
	require.Len(t, again, 3)
	require.Equal(t, again[1].String(), again[2].String(), "SetMatch's bytes read back like the typed match's")

	text, ok := SetMatchText(ns, got)
	require.True(t, ok)
	require.Equal(t, "-m set --match-set KUBE-LOOP-BACK dst,dst,src", text)
	name, err := SetName(ns, idx)
	require.NoError(t, err)
	require.Equal(t, "KUBE-LOOP-BACK", name)
}

// nfkit writes the rule; iptables-nft-save must print kube-proxy's line,
// inverted matches included.
func TestSetMatchWrittenReadByIptablesNft(t *testing.T) {
	ns := setMatchNS(t)
	idx, err := SetIndex(ns, "KUBE-LOOP-BACK")
	require.NoError(t, err)
	ic, err := iptables.Dial(&iptables.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer ic.Close()
	b := iptables.NewBatch()
	for _, inv := range []bool{false, true} {
		r, err := iptables.ParseRule(iptables.IPv4, `-t nat -A KUBE-POSTROUTING -m comment --comment "hairpin" -j MASQUERADE`)
		require.NoError(t, err)
		m, err := SetMatch(idx, inv, "dst", "dst", "src")
		require.NoError(t, err)
		r.Matches = append(r.Matches, m)
		require.NoError(t, b.Append(iptables.IPv4, r))
	}
	require.NoError(t, ic.Commit(context.Background(), b))
	out := ns.Run(t, "iptables-nft-save", "-t", "nat")
	require.Contains(t, out, loopBackRule+"\n")
	require.Contains(t, out, strings.Replace(loopBackRule, "-m set --match-set", "-m set ! --match-set", 1)+"\n")
}

func TestSetMatchInvalid(t *testing.T) {
	for _, dirs := range [][]string{nil, {"dst", "up"}, {"src", "src", "src", "src", "src", "src", "src"}} {
		_, err := SetMatch(0, false, dirs...)
		require.Error(t, err, "%v", dirs)
	}
	// A missing set is an error, not index 0xffff.
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	_, err := SetIndex(ns, "NOPE")
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("NOPE")) {
		t.Fatalf("SetIndex of a missing set: %v", err)
	}
	_, err = SetIndex(ns, strings.Repeat("x", 32))
	require.Error(t, err)
}
