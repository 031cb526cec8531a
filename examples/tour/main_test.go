package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
	"github.com/nfkit/nfkit/iptables"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// TestTour runs the README's demo and checks, while its namespace still
// exists, what the kernel really holds: the counter rule counted the
// loopback connections, the set and the ipset have their members, the
// iptables rules are there, conntrack tracked the connections; after the
// cleanup nothing is left, and afterwards the namespace is gone.
func TestTour(t *testing.T) {
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var nsPath string
	var out bytes.Buffer
	err := run(ctx, &out, options{
		CLI: true,
		inspect: func(ns *nstest.NS) error {
			nsPath = ns.Path()
			checkState(t, ctx, ns)
			return nil
		},
		cleaned: func(ns *nstest.NS) error {
			c, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
			require.NoError(t, err)
			defer c.Close()
			tables, err := c.ListTables(ctx, nft.FamilyUnspec)
			require.NoError(t, err)
			require.Empty(t, tables, "cleanup must remove every table")
			sc, err := ipset.Dial(&ipset.Config{NetNS: ns.FD()})
			require.NoError(t, err)
			defer sc.Close()
			if _, err := sc.Get(ctx, setName); !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("ipset %s after cleanup: %v (want: does not exist)", setName, err)
			}
			return nil
		},
	})
	require.NoError(t, err, out.String())
	require.NotEmpty(t, nsPath)
	_, err = os.Stat(nsPath)
	require.True(t, os.IsNotExist(err), "the tour's namespace must be removed")

	text := out.String()
	// The IPVS step either ran or said clearly why it did not.
	if strings.Contains(text, "skipped IPVS: ") {
		require.Contains(t, text, "IPVS is not available")
	} else {
		require.Contains(t, text, "-A -t 203.0.113.80:80 -s rr")
	}
	require.Contains(t, text, "does not exist: the table and chain of the batch were rolled back")
}

func checkState(t *testing.T, ctx context.Context, ns *nstest.NS) {
	t.Helper()
	// nf_tables: the counter of the one rule counted the 3 connections.
	c, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	rules, err := c.ListRules(ctx, nft.RuleFilter{Family: nft.FamilyINet, Table: tableName, Chain: "input"})
	require.NoError(t, err)
	require.Len(t, rules, 1)
	var counter *expr.Counter
	for _, e := range rules[0].Exprs {
		if ce, ok := e.(*expr.Counter); ok {
			counter = ce
		}
	}
	require.NotNil(t, counter)
	// Each connection is at least SYN, ACK, FIN, ACK from the client side.
	require.GreaterOrEqual(t, counter.Packets, uint64(3*4), "the counter rule must have seen the loopback connections")
	set, err := c.GetSet(ctx, nft.FamilyINet, tableName, "allowed")
	require.NoError(t, err)
	elems, err := c.ListElements(ctx, set)
	require.NoError(t, err)
	require.Len(t, elems, len(allowed))

	// The same counter, as nft itself reads it.
	if _, err := exec.LookPath("nft"); err == nil {
		listing, err := ns.Exec("nft", "list", "table", "inet", tableName)
		require.NoError(t, err, listing)
		require.Contains(t, listing, fmt.Sprintf("counter packets %d bytes %d", counter.Packets, counter.Bytes))
		require.Contains(t, listing, "ip saddr @allowed tcp dport 8080")
	}

	// iptables: the rules are there as iptables-nft reads them.
	ic, err := iptables.Dial(&iptables.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer ic.Close()
	ir, err := ic.ListRules(ctx, iptables.IPv4, "filter", "INPUT")
	require.NoError(t, err)
	require.Len(t, ir, 2)
	if _, err := exec.LookPath("iptables-nft-save"); err == nil {
		save, err := ns.Exec("iptables-nft-save")
		require.NoError(t, err, save)
		for _, spec := range iptablesRules {
			require.Contains(t, save, strings.TrimPrefix(spec, "-t nat "))
		}
	}

	// ipset: members match, others do not.
	sc, err := ipset.Dial(&ipset.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer sc.Close()
	in, err := sc.Test(ctx, setName, ipset.Entry{Addr: netip.MustParseAddr("192.0.2.200")})
	require.NoError(t, err)
	require.True(t, in)
	in, err = sc.Test(ctx, setName, ipset.Entry{Addr: netip.MustParseAddr("192.0.2.1")})
	require.NoError(t, err)
	require.False(t, in)

	// conntrack: the three loopback connections; the created flow was deleted.
	cc, err := conntrack.Dial(&conntrack.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer cc.Close()
	flows, err := cc.List(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: server.Addr(), Proto: conntrack.ProtoTCP, DstPort: server.Port()}})
	require.NoError(t, err)
	require.Len(t, flows, 3)
	gone, err := cc.List(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: netip.MustParseAddr("203.0.113.5")}})
	require.NoError(t, err)
	require.Empty(t, gone)
}
