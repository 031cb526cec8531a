package conntrack

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

// fillTable creates a mixed table: TCP and UDP over IPv4 and IPv6, marks,
// zones and ICMP, n flows per kind.
func fillTable(t testing.TB, c *Conn, n int) {
	t.Helper()
	ctx := testCtx(t)
	b := c.NewBatch()
	for i := 0; i < n; i++ {
		f := tcpFlow("192.0.2.1", fmt.Sprintf("192.0.2.%d", 10+i%5), uint16(10000+i), uint16(80+i%3))
		f.Mark = uint32(i % 4)
		if i%2 == 0 {
			f.Status = StatusSeenReply
		}
		require.NoError(t, b.Create(f))
		u := Flow{Origin: Tuple{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", 0x10+i%3)), Proto: ProtoUDP, SrcPort: uint16(20000 + i), DstPort: 53}, Timeout: 60, Zone: uint16(i % 2)}
		require.NoError(t, b.Create(u))
		ic := Flow{Origin: Tuple{Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"), Proto: ProtoICMP, ICMPType: 8, ICMPID: uint16(i)}, Timeout: 60, Mark: 7}
		require.NoError(t, b.Create(ic))
	}
	require.NoError(t, b.Commit(ctx))
}

var sportRE = regexp.MustCompile(`^\S+\s+\d+\s+(\S+)\s+.*?src=(\S+) dst=(\S+) (?:sport=(\d+)|type=\d+ code=\d+ id=(\d+))`)

// toolKeys lists `conntrack -L ARGS` as sorted "proto src dst sport|id" keys.
func toolKeys(t *testing.T, ns *nstest.NS, args ...string) []string {
	out := toolStdout(t, ns, "conntrack", append([]string{"-L", "-o", "extended"}, args...)...)
	var keys []string
	for _, l := range strings.Split(out, "\n") {
		m := sportRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		keys = append(keys, fmt.Sprintf("%s %s %s %s%s", m[1], m[2], m[3], m[4], m[5]))
	}
	sort.Strings(keys)
	return keys
}

func flowKeys(fs []Flow) []string {
	var keys []string
	for _, f := range fs {
		id := fmt.Sprint(f.Origin.SrcPort)
		if f.Origin.Proto.isICMP() {
			id = fmt.Sprint(f.Origin.ICMPID)
		}
		keys = append(keys, fmt.Sprintf("%s %s %s %s", f.Origin.Proto, f.Origin.Src, f.Origin.Dst, id))
	}
	sort.Strings(keys)
	return keys
}

// kernelCount dumps with only the kernel half of the filter and counts what
// the kernel sent, to prove the filter is pushed down.
func kernelCount(t *testing.T, c *Conn, f Filter) int {
	reqs, _, err := f.kernelRequests(ctMsgGet)
	require.NoError(t, err)
	n := 0
	for _, req := range reqs {
		for _, err := range c.nl.Dump(testCtx(t), req) {
			require.NoError(t, err)
			n++
		}
	}
	return n
}

func TestFiltersMatchConntrackTool(t *testing.T) {
	nstest.RequireTool(t, "conntrack")
	ns, c := newTestConn(t)
	ctx := testCtx(t)
	const n = 60
	fillTable(t, c, n)

	all, err := c.List(ctx, Filter{})
	require.NoError(t, err)
	require.Len(t, all, 3*n)

	cases := []struct {
		name   string
		filter Filter
		args   []string
		// pushed: the kernel alone must already return exactly the result.
		pushed bool
	}{
		{"family ipv6", Filter{Family: IPv6}, []string{"-f", "ipv6"}, true},
		{"mark", Filter{Mark: 2}, []string{"-m", "2"}, true},
		{"mark/mask", Filter{Mark: 1, MarkMask: 1}, []string{"-m", "1/1"}, true},
		{"zone", Filter{MatchZone: true, Zone: 1}, []string{"-w", "1"}, true},
		{"proto", Filter{Origin: &TupleFilter{Proto: ProtoICMP}}, []string{"-p", "icmp"}, true},
		{"dst+dport", Filter{Origin: &TupleFilter{Dst: netip.MustParseAddr("192.0.2.11"), Proto: ProtoTCP, DstPort: 81}}, []string{"-d", "192.0.2.11", "-p", "tcp", "--dport", "81"}, true},
		{"v6 dst", Filter{Origin: &TupleFilter{Dst: netip.MustParseAddr("2001:db8::11")}}, []string{"-f", "ipv6", "-d", "2001:db8::11"}, false},
		{"udp dport any family", Filter{Origin: &TupleFilter{Proto: ProtoUDP, DstPort: 53}}, []string{"-p", "udp", "--dport", "53"}, true},
		{"reply src", Filter{Reply: &TupleFilter{Src: netip.MustParseAddr("192.0.2.12")}}, []string{"--reply-src", "192.0.2.12"}, true},
		{"icmp id", Filter{Origin: &TupleFilter{Proto: ProtoICMP, ICMPType: U8(8), ICMPID: U16(5)}}, []string{"-p", "icmp", "--icmp-type", "8", "--icmp-id", "5"}, true},
		{"status", Filter{Status: StatusSeenReply}, []string{"-u", "SEEN_REPLY"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.List(ctx, tc.filter)
			require.NoError(t, err)
			want := toolKeys(t, ns, tc.args...)
			require.NotEmpty(t, want, "the case must select something")
			require.Less(t, len(want), 3*n, "the case must leave something out")
			require.Equal(t, want, flowKeys(got))
			if tc.pushed {
				require.Equal(t, len(want), kernelCount(t, c, tc.filter), "kernel-side filter")
			}
		})
	}
	// A Go predicate runs last.
	got, err := c.List(ctx, Filter{Origin: &TupleFilter{Proto: ProtoTCP}, Match: func(f *Flow) bool { return f.Origin.SrcPort%10 == 0 }})
	require.NoError(t, err)
	require.Len(t, got, n/10)
}

func TestFilterBadInput(t *testing.T) {
	_, c := newTestConn(t)
	ctx := testCtx(t)
	cases := []struct {
		filter Filter
		field  string
	}{
		{Filter{Family: IPv4, Origin: &TupleFilter{Src: netip.MustParseAddr("2001:db8::1")}}, "Filter.Origin.Src"},
		{Filter{Origin: &TupleFilter{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("2001:db8::1")}}, "Filter.Origin.Dst"},
		{Filter{Origin: &TupleFilter{DstPort: 80}}, "Filter.Origin.Proto"},
		{Filter{Origin: &TupleFilter{Proto: ProtoICMP, DstPort: 80}}, "Filter.Origin.DstPort"},
		{Filter{Reply: &TupleFilter{Proto: ProtoTCP, ICMPType: U8(8)}}, "Filter.Reply.ICMPType"},
		{Filter{Mark: 3, MarkMask: 1}, "Filter.Mark"},
		{Filter{Family: 7}, "Filter.Family"},
	}
	for _, tc := range cases {
		_, err := c.List(ctx, tc.filter)
		require.ErrorIs(t, err, ErrInvalid)
		require.Contains(t, err.Error(), tc.field)
		var e *Error
		require.False(t, errors.As(err, &e), "rejected before the kernel saw it")
		_, err = c.DeleteMatching(ctx, tc.filter)
		require.ErrorIs(t, err, ErrInvalid)
	}
	// Tuples for single-flow operations.
	bad := []struct {
		f     Flow
		field string
	}{
		{Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}, Timeout: 1}, "Flow.Origin.Proto"},
		{Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoICMP, SrcPort: 1}, Timeout: 1}, "Flow.Origin.SrcPort"},
		{Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("2001:db8::2"), Proto: ProtoTCP}, Timeout: 1}, "Flow.Origin.Dst"},
		{Flow{Origin: Tuple{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"), Proto: ProtoICMP}, Timeout: 1}, "Flow.Origin.Proto"},
		{Flow{Origin: Tuple{Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoTCP}, Timeout: 1}, "Flow.Origin.Src"},
		{Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoTCP}}, "Flow.Timeout"},
	}
	for _, tc := range bad {
		err := c.Create(ctx, tc.f)
		require.ErrorIs(t, err, ErrInvalid)
		require.Contains(t, err.Error(), tc.field)
	}
	_, err := c.Get(ctx, Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoUDP, ICMPType: 3}})
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "Flow.Origin.ICMPType")
}
