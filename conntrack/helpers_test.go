package conntrack

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestConn returns a fresh namespace and a Conn bound inside it.
func newTestConn(t testing.TB) (*nstest.NS, *Conn) {
	t.Helper()
	ns := nstest.New(t)
	c, err := Dial(&Config{NetNS: ns.FD()})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return ns, c
}

func tcpFlow(src, dst string, sport, dport uint16) Flow {
	return Flow{
		Origin: Tuple{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: ProtoTCP, SrcPort: sport, DstPort: dport},
		Timeout: 120,
		TCP:     &TCPInfo{State: TCPEstablished},
	}
}
