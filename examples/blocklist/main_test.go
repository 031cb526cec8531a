package main

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

func TestBlocklist(t *testing.T) {
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 20000
	var res Result
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, options{Prefixes: n, result: &res, decoys: 2}), out.String())
	t.Log("\n" + out.String())
	require.Equal(t, n+1, res.Loaded, "bulk load must put every prefix in the set")
	require.Equal(t, n+1, res.Replaced)
	require.Equal(t, uint32(1), res.ReferencesAfterSwaps, "the ip6tables rule must still reference the replaced set")
	// First list blocks A, not B; the replacement blocks B, not A.
	require.False(t, res.APassed1, "client A is on the first list")
	require.True(t, res.BPassed1, "client B is not on the first list")
	require.True(t, res.APassed2, "client A is not on the replacement")
	require.False(t, res.BPassed2, "client B is on the replacement")
	// The rule was written by name; the kernel holds the set's index, and
	// nfkit lists it back typed, with that index and the name.
	require.Equal(t, "-A INPUT -m set --match-set blocklist src -j DROP", res.ListedRule)
	require.True(t, res.HasIndex, "the listed set match carries the kernel index")
	require.Equal(t, uint16(2), res.IpsetIndex, "two decoy sets come first")
	require.Equal(t, res.IpsetIndex, res.SetIndex, "the rule holds the index the kernel gave the set")
	if _, err := exec.LookPath("ip6tables-nft-save"); err == nil {
		require.Equal(t, "-A INPUT -m set --match-set blocklist src -j DROP", res.SavedRule)
	}
}
