package conntrack

import (
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func ftpMaster() Flow {
	f := tcpFlow("192.0.2.1", "192.0.2.2", 40000, 21)
	f.Helper = "ftp"
	return f
}

func TestExpectationsBothWays(t *testing.T) {
	ns, c := newTestConn(t)
	ctx := testCtx(t)
	master := ftpMaster()
	require.NoError(t, c.Create(ctx, master))
	got, err := c.Get(ctx, master)
	require.NoError(t, err)
	require.Equal(t, "ftp", got.Helper)

	// nfkit writes, conntrack -L expect reads.
	e := Expectation{
		Master:  master.Origin,
		Tuple:   Tuple{Src: mustAddr("192.0.2.2"), Dst: mustAddr("192.0.2.1"), Proto: ProtoTCP, SrcPort: 0, DstPort: 50000},
		Mask:    Tuple{Src: mustAddr("255.255.255.255"), Dst: mustAddr("255.255.255.255"), Proto: ProtoTCP, SrcPort: 0, DstPort: 0xffff},
		Timeout: 300,
	}
	require.NoError(t, c.CreateExpectation(ctx, e))
	out := toolStdout(t, ns, "conntrack", "-L", "expect")
	require.Regexp(t, `^(29\d|300) proto=6 src=192.0.2.2 dst=192.0.2.1 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=192.0.2.1 master-dst=192.0.2.2 sport=40000 dport=21 `, strings.TrimSpace(out))
	require.Contains(t, out, "helper=ftp")

	// conntrack -I expect writes, nfkit reads. The FTP helper allows one
	// expectation per master, so this one gets its own master.
	master2 := ftpMaster()
	master2.Origin.SrcPort = 40001
	require.NoError(t, c.Create(ctx, master2))
	ns.Run(t, "conntrack", "-I", "expect", "-p", "tcp",
		"--orig-src", "192.0.2.1", "--orig-dst", "192.0.2.2", "--orig-port-src", "40001", "--orig-port-dst", "21",
		"--tuple-src", "192.0.2.2", "--tuple-dst", "192.0.2.1", "--tuple-port-src", "0", "--tuple-port-dst", "50001",
		"--mask-src", "255.255.255.255", "--mask-dst", "255.255.255.255", "--mask-port-src", "0", "--mask-port-dst", "65535",
		"-t", "200")
	exps, err := c.ListExpectations(ctx, IPv4)
	require.NoError(t, err)
	require.Len(t, exps, 2, "%+v", exps)
	var tool Expectation
	for _, x := range exps {
		if x.Master.SrcPort == 40001 {
			tool = x
		}
	}
	require.Equal(t, master.Origin.Src, tool.Master.Src)
	require.Equal(t, uint16(21), tool.Master.DstPort)
	require.Equal(t, mustAddr("192.0.2.2"), tool.Tuple.Src)
	require.Equal(t, mustAddr("255.255.255.255"), tool.Mask.Src)
	require.Equal(t, "ftp", tool.Helper)
	require.NotZero(t, tool.ID)
	// conntrack-tools 1.4.7 sends the expected tuple's protocol as 0xc3
	// (the high byte of --tuple-port-dst 50001) and no ports (seen with
	// strace). The kernel stores that, the tool lists it as proto=195,
	// and nfkit must read the same.
	out = toolStdout(t, ns, "conntrack", "-L", "expect")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "sport=40001") {
			line = l
		}
	}
	require.Contains(t, line, "proto=195 src=192.0.2.2 dst=192.0.2.1 mask-src=255.255.255.255")
	require.Equal(t, Proto(195), tool.Tuple.Proto)
	// The helper's policy sets the timeout (300 s for FTP), not -t.
	var toolTimeout uint32
	_, err = fmt.Sscanf(line, "%d ", &toolTimeout)
	require.NoError(t, err)
	require.InDelta(t, toolTimeout, tool.Timeout, 1)
	require.Zero(t, tool.Tuple.DstPort)
	// And nfkit's own expectation reads back as written.
	for _, x := range exps {
		if x.Master.SrcPort == 40000 {
			require.Equal(t, e.Tuple.DstPort, x.Tuple.DstPort)
			require.Equal(t, ProtoTCP, x.Tuple.Proto)
		}
	}

	g, err := c.GetExpectation(ctx, Expectation{Tuple: tool.Tuple})
	require.NoError(t, err)
	require.Equal(t, tool.ID, g.ID)
	require.NoError(t, c.DeleteExpectation(ctx, tool))
	_, err = c.GetExpectation(ctx, Expectation{Tuple: tool.Tuple})
	require.ErrorIs(t, err, fs.ErrNotExist)

	st, err := c.ExpectationStats(ctx)
	require.NoError(t, err)
	var created uint32
	for _, s := range st {
		created += s.Create
	}
	require.GreaterOrEqual(t, created, uint32(2))

	require.NoError(t, c.FlushExpectations(ctx, FamilyAny))
	exps, err = c.ListExpectations(ctx, FamilyAny)
	require.NoError(t, err)
	require.Empty(t, exps)

	// Without a helper on the master the kernel refuses.
	plain := tcpFlow("192.0.2.5", "192.0.2.6", 1, 2)
	require.NoError(t, c.Create(ctx, plain))
	e.Master = plain.Origin
	require.Error(t, c.CreateExpectation(ctx, e))
	// Bad input.
	bad := e
	bad.Tuple.Dst = netip.MustParseAddr("2001:db8::1")
	require.ErrorIs(t, c.CreateExpectation(ctx, bad), ErrInvalid)
}
