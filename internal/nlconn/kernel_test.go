package nlconn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/internal/nstest"
)

func newTable(name string, flags netlink.HeaderFlags) netlink.Message {
	ae := attr.NewEncoder()
	ae.String(unix.NFTA_TABLE_NAME, name)
	b, _ := ae.Encode()
	return nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_NEWTABLE, netlink.Create|flags,
		nfnl.Header{Family: unix.NFPROTO_INET, Version: unix.NFNETLINK_V0}, b)
}

func tableNames(t *testing.T, c *nlconn.Conn) []string {
	t.Helper()
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETTABLE, 0, nfnl.Header{Family: unix.NFPROTO_UNSPEC}, nil)
	var names []string
	for m, err := range c.Dump(context.Background(), req) {
		require.NoError(t, err)
		_, rest, err := nfnl.Unmarshal(m.Data)
		require.NoError(t, err)
		ad, err := attr.NewDecoder(rest)
		require.NoError(t, err)
		for ad.Next() {
			if ad.Type() == unix.NFTA_TABLE_NAME {
				names = append(names, ad.String())
			}
		}
	}
	return names
}

// A transaction against the real kernel: a failing message leaves nothing
// behind and is attributed to its index; a good one applies whole.
func TestKernelTransactionAtomicity(t *testing.T) {
	ns := nstest.New(t)
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()

	_, err = c.Transaction(ctx, unix.NFNL_SUBSYS_NFTABLES, 0, []netlink.Message{
		newTable("a", 0), newTable("b", 0), newTable("a", netlink.Excl), newTable("c", 0),
	})
	var ke *nlconn.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, 2, ke.Index)
	require.ErrorIs(t, err, unix.EEXIST)
	require.Empty(t, tableNames(t, c), "an aborted transaction leaves the kernel unchanged")
	require.NotContains(t, ns.Run(t, "nft", "list", "tables"), "table")

	_, err = c.Transaction(ctx, unix.NFNL_SUBSYS_NFTABLES, 0, []netlink.Message{newTable("a", 0), newTable("b", 0)})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, tableNames(t, c))
	out := ns.Run(t, "nft", "list", "tables")
	require.Equal(t, "table inet a\ntable inet b\n", out)

	// Execute: GETGEN answers with one message before the ack.
	replies, err := c.Execute(ctx, nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETGEN, 0, nfnl.Header{}, nil))
	require.NoError(t, err)
	require.Len(t, replies, 1)
}

// Tables created through a socket bound in a test namespace are invisible
// in the root namespace.
func TestKernelNamespaceIsolation(t *testing.T) {
	ns := nstest.New(t)
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Transaction(context.Background(), unix.NFNL_SUBSYS_NFTABLES, 0, []netlink.Message{newTable("nfkit_isolation_probe", 0)})
	require.NoError(t, err)
	require.Contains(t, ns.Run(t, "nft", "list", "tables"), "nfkit_isolation_probe")

	root, err := nlconn.Dial(unix.NETLINK_NETFILTER, nil)
	require.NoError(t, err)
	defer root.Close()
	require.NotContains(t, strings.Join(tableNames(t, root), ","), "nfkit_isolation_probe")
}

// A transaction of 200 000 messages goes out in one sendmsg with buffers
// grown to fit, and its single ack comes back.
func TestKernelLargeTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("large batch")
	}
	ns := nstest.New(t)
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	msgs := []netlink.Message{newTable("big", 0)}
	for i := 0; len(msgs) < 200000; i++ {
		ae := attr.NewEncoder()
		ae.String(unix.NFTA_CHAIN_TABLE, "big")
		ae.String(unix.NFTA_CHAIN_NAME, "c"+strings.Repeat("x", i%5)+itoa(i))
		b, _ := ae.Encode()
		msgs = append(msgs, nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_NEWCHAIN, netlink.Create,
			nfnl.Header{Family: unix.NFPROTO_INET, Version: unix.NFNETLINK_V0}, b))
	}
	_, err = c.Transaction(context.Background(), unix.NFNL_SUBSYS_NFTABLES, 0, msgs)
	require.NoError(t, err)
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETCHAIN, 0, nfnl.Header{Family: unix.NFPROTO_INET}, nil)
	n := 0
	for _, err := range c.Dump(context.Background(), req) {
		require.NoError(t, err)
		n++
	}
	require.Equal(t, len(msgs)-1, n)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// Config.RecvSize reads without peeking: replies arrive as usual, and a
// datagram larger than RecvSize is an error, never a truncated message.
func TestKernelRecvSize(t *testing.T) {
	ns := nstest.New(t)
	ctx := context.Background()
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD(), RecvSize: 64 << 10})
	require.NoError(t, err)
	defer c.Close()
	for _, name := range []string{"a", "b", "c"} {
		_, err := c.Transaction(ctx, unix.NFNL_SUBSYS_NFTABLES, 0, []netlink.Message{newTable(name, 0)})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"a", "b", "c"}, tableNames(t, c))

	small, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD(), RecvSize: 32})
	require.NoError(t, err)
	defer small.Close()
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETTABLE, 0, nfnl.Header{Family: unix.NFPROTO_UNSPEC}, nil)
	var derr error
	for _, err := range small.Dump(ctx, req) {
		if err != nil {
			derr = err
		}
	}
	require.ErrorContains(t, derr, "exceeds the 32-byte receive size")
}

// DumpBorrowed yields the same messages as Dump, over a dump of many
// datagrams (each read overwrites the buffer the previous messages were
// in), alternating with copying dumps on the same socket, whose copies
// stay intact.
func TestKernelDumpBorrowed(t *testing.T) {
	ns := nstest.New(t)
	ctx := context.Background()
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	makeChains(t, c, 3000)
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETCHAIN, 0, nfnl.Header{Family: unix.NFPROTO_INET}, nil)
	var kept [][]byte
	for m, err := range c.Dump(ctx, req) {
		require.NoError(t, err)
		kept = append(kept, m.Data)
	}
	require.Len(t, kept, 3000)
	for round := 0; round < 2; round++ {
		i := 0
		for m, err := range c.DumpBorrowed(ctx, req) {
			require.NoError(t, err)
			require.Less(t, i, len(kept))
			require.Equal(t, kept[i], m.Data, "message %d", i)
			i++
		}
		require.Equal(t, len(kept), i)
		require.Equal(t, []string{"t"}, tableNames(t, c))
	}
	// The copies Dump handed out are intact after the borrowed dumps.
	i := 0
	for m, err := range c.Dump(ctx, req) {
		require.NoError(t, err)
		require.Equal(t, kept[i], m.Data)
		i++
	}
}

// A dump abandoned mid-way by a cancelled context leaves the kernel's dump
// running on the socket; the next exchange on the Conn finishes it first,
// so a new dump works (instead of failing with EBUSY) and sees everything.
func TestKernelDumpAfterCancel(t *testing.T) {
	ns := nstest.New(t)
	c, err := nlconn.Dial(unix.NETLINK_NETFILTER, &nlconn.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	makeChains(t, c, 2000)
	req := nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_GETCHAIN, 0, nfnl.Header{Family: unix.NFPROTO_INET}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	var derr error
	for _, err := range c.Dump(ctx, req) {
		if err != nil {
			derr = err
			break
		}
		if seen++; seen == 1 {
			cancel()
		}
	}
	require.ErrorIs(t, derr, context.Canceled)
	require.Less(t, seen, 2000, "the dump ran to its end before the cancellation was seen")
	for round := 0; round < 2; round++ {
		n := 0
		for _, err := range c.Dump(context.Background(), req) {
			require.NoError(t, err)
			n++
		}
		require.Equal(t, 2000, n)
	}
	require.Equal(t, []string{"t"}, tableNames(t, c))
}

// makeChains commits table inet t with n chains, enough for a chain dump
// of many datagrams.
func makeChains(t *testing.T, c *nlconn.Conn, n int) {
	t.Helper()
	msgs := []netlink.Message{newTable("t", 0)}
	for i := 0; i < n; i++ {
		ae := attr.NewEncoder()
		ae.String(unix.NFTA_CHAIN_TABLE, "t")
		ae.String(unix.NFTA_CHAIN_NAME, "chain-"+itoa(i))
		b, _ := ae.Encode()
		msgs = append(msgs, nfnl.NewMessage(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_NEWCHAIN, netlink.Create,
			nfnl.Header{Family: unix.NFPROTO_INET, Version: unix.NFNETLINK_V0}, b))
	}
	_, err := c.Transaction(context.Background(), unix.NFNL_SUBSYS_NFTABLES, 0, msgs)
	require.NoError(t, err)
}
