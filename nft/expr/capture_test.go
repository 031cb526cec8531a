package expr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/internal/nstest"
)

// nftRuleExprs adds one rule with the nft CLI in a fresh namespace and
// returns the NFTA_RULE_EXPRESSIONS bytes the kernel dumps for it. setup
// lines (nft syntax, one command each) run first, e.g. to declare sets.
// family is the nft family word ("ip", "ip6", "inet", "bridge", "arp",
// "netdev"); the table is "t" and the chain "c".
func nftRuleExprs(t *testing.T, ns *nstest.NS, family, rule string, setup ...string) []byte {
	t.Helper()
	script := "add table " + family + " t\n"
	ownChain := false
	for _, l := range setup {
		ownChain = ownChain || strings.HasPrefix(l, "add chain "+family+" t c ")
	}
	if !ownChain {
		script += "add chain " + family + " t c\n"
	}
	for _, s := range setup {
		script += s + "\n"
	}
	script += "add rule " + family + " t c " + rule + "\n"
	out, err := ns.ExecInput([]byte("flush ruleset\n"+script), "nft", "-f", "-")
	require.NoError(t, err, "nft -f failed for %q: %s", rule, out)
	rules := dumpRules(t, ns, familyNum(family), "t", "c")
	require.Len(t, rules, 1, "want exactly one rule in t/c")
	return rules[0]
}

func familyNum(f string) uint8 {
	switch f {
	case "ip":
		return unix.NFPROTO_IPV4
	case "ip6":
		return unix.NFPROTO_IPV6
	case "inet":
		return unix.NFPROTO_INET
	case "bridge":
		return unix.NFPROTO_BRIDGE
	case "arp":
		return unix.NFPROTO_ARP
	case "netdev":
		return unix.NFPROTO_NETDEV
	}
	panic("unknown family " + f)
}

// dumpRules dumps the rules of table/chain and returns each rule's
// NFTA_RULE_EXPRESSIONS payload exactly as the kernel sent it.
func dumpRules(t *testing.T, ns *nstest.NS, family uint8, table, chain string) [][]byte {
	t.Helper()
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	ae := attr.NewEncoder()
	ae.String(unix.NFTA_RULE_TABLE, table)
	ae.String(unix.NFTA_RULE_CHAIN, chain)
	b, err := ae.Encode()
	require.NoError(t, err)
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETRULE, 0,
		nfnl.Header{Family: family, Version: unix.NFNETLINK_V0}, b)
	var found [][]byte
	for m, err := range c.Dump(context.Background(), req) {
		require.NoError(t, err)
		_, rest, err := nfnl.Unmarshal(m.Data)
		require.NoError(t, err)
		ad, err := attr.NewDecoder(rest)
		require.NoError(t, err)
		for ad.Next() {
			if ad.Type() == unix.NFTA_RULE_EXPRESSIONS {
				found = append(found, attr.Clone(ad.Bytes()))
			}
		}
		require.NoError(t, ad.Err())
	}
	return found
}
