package conntrack

import (
	"fmt"
	"io/fs"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeleteMatchingAgainstConntrackTool(t *testing.T) {
	ns, c := newTestConn(t)
	ctx := testCtx(t)
	const n = 100
	fillTable(t, c, n)
	// What the tool would select with the same options.
	want := toolKeys(t, ns, "-p", "tcp", "-d", "192.0.2.11", "--dport", "81")
	require.NotEmpty(t, want)

	f := Filter{Origin: &TupleFilter{Dst: netip.MustParseAddr("192.0.2.11"), Proto: ProtoTCP, DstPort: 81}}
	deleted, err := c.DeleteMatching(ctx, f)
	require.NoError(t, err)
	require.Equal(t, len(want), deleted)
	require.Empty(t, toolKeys(t, ns, "-p", "tcp", "-d", "192.0.2.11", "--dport", "81"))
	left, err := c.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 3*n-deleted, left)

	// A Go-only predicate works too, and nothing matching means 0.
	deleted, err = c.DeleteMatching(ctx, Filter{Family: IPv6, Match: func(f *Flow) bool { return f.Origin.SrcPort%2 == 0 }})
	require.NoError(t, err)
	require.Equal(t, n/2, deleted)
	deleted, err = c.DeleteMatching(ctx, f)
	require.NoError(t, err)
	require.Zero(t, deleted)
}

func TestFlush(t *testing.T) {
	ns, c := newTestConn(t)
	ctx := testCtx(t)
	fillTable(t, c, 20)
	// Per family: only IPv6 goes.
	n, err := c.Flush(ctx, IPv6)
	require.NoError(t, err)
	require.Equal(t, 20, n)
	out := toolStdout(t, ns, "conntrack", "-L", "-o", "extended")
	require.NotContains(t, out, "ipv6")
	require.Contains(t, out, "ipv4")

	// A filtered flush in the kernel: mark 7 is the ICMP flows.
	n, err = c.FlushMatching(ctx, Filter{Mark: 7})
	require.NoError(t, err)
	require.Equal(t, 20, n)
	require.NotContains(t, toolStdout(t, ns, "conntrack", "-L"), "icmp")

	// Tuple filter flush (CTA_FILTER on flush, Linux 6.12).
	n, err = c.FlushMatching(ctx, Filter{Origin: &TupleFilter{Dst: netip.MustParseAddr("192.0.2.10"), Proto: ProtoTCP}})
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.NotContains(t, toolStdout(t, ns, "conntrack", "-L"), "dst=192.0.2.10 ")

	// Filters the kernel cannot evaluate exactly are refused up front.
	_, err = c.FlushMatching(ctx, Filter{Origin: &TupleFilter{Src: netip.MustParseAddr("2001:db8::1")}})
	require.ErrorIs(t, err, ErrInvalid)

	n, err = c.Flush(ctx, FamilyAny)
	require.NoError(t, err)
	require.Equal(t, 16, n)
	cnt, err := c.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, cnt)
}

func TestBatchInOrderNotAtomic(t *testing.T) {
	ns, c := newTestConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	f1 := tcpFlow("192.0.2.1", "192.0.2.2", 1, 80)
	f2 := tcpFlow("192.0.2.1", "192.0.2.2", 2, 80)
	require.NoError(t, b.Create(f1))
	require.NoError(t, b.Create(f1)) // duplicate: refused, the rest goes on
	require.NoError(t, b.Create(f2))
	f2.Mark = 5
	require.NoError(t, b.Update(f2))
	require.NoError(t, b.Delete(Flow{Origin: f1.Origin}))
	require.Equal(t, 5, b.Len())
	// Bad input is refused when queued.
	require.ErrorIs(t, b.Create(Flow{Origin: Tuple{Proto: ProtoTCP}}), ErrInvalid)

	res, err := b.CommitResults(ctx)
	require.Error(t, err)
	require.Len(t, res, 5)
	require.NoError(t, res[0])
	require.ErrorIs(t, res[1], fs.ErrExist)
	var e *Error
	require.ErrorAs(t, res[1], &e)
	require.Equal(t, 1, e.Index)
	for _, i := range []int{2, 3, 4} {
		require.NoError(t, res[i], "op %d", i)
	}
	out := toolStdout(t, ns, "conntrack", "-L")
	require.Equal(t, 1, strings.Count(out, "\n"), out)
	require.Contains(t, out, "sport=2 dport=80")
	require.Contains(t, out, "mark=5")
}

func TestCreateManyPipelined(t *testing.T) {
	_, c := newTestConn(t)
	ctx := testCtx(t)
	b := c.NewBatch()
	for i := 0; i < 500; i++ {
		require.NoError(t, b.Create(tcpFlow("203.0.113.1", fmt.Sprintf("203.0.113.%d", 2+i%200), uint16(1000+i), 443)))
	}
	require.NoError(t, b.Commit(ctx))
	n, err := c.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 500, n)
	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	var inserts uint32
	for _, s := range st {
		inserts += s.Insert
	}
	require.GreaterOrEqual(t, inserts, uint32(500))
}

// Breaking out of a dump early leaves the connection usable at once (the
// rest of the dump is drained before All returns) and no reader behind.
func TestDumpBreakEarly(t *testing.T) {
	_, c := newTestConn(t)
	ctx := testCtx(t)
	fill(t, c, 0, 3000, 1)
	before := runtime.NumGoroutine()
	for range 3 {
		n := 0
		for _, err := range c.All(ctx, Filter{}) {
			require.NoError(t, err)
			n++
			if n == 10 {
				break
			}
		}
		require.Equal(t, 10, n)
		flows, err := c.List(ctx, Filter{})
		require.NoError(t, err)
		require.Len(t, flows, 3000)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before)
}
