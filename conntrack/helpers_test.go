package conntrack

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
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

// toolStdout runs a CLI tool in ns and returns its standard output only:
// conntrack prints its summary on stderr, and interleaved with a buffered
// stdout it can land in the middle of a line.
func toolStdout(t testing.TB, ns *nstest.NS, name string, args ...string) string {
	t.Helper()
	nstest.RequireTool(t, name)
	cmd := exec.Command("nsenter", append([]string{"--net=" + ns.Path(), "--", name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %v: %s", name, args, stderr.String())
	return string(out)
}

func tcpFlow(src, dst string, sport, dport uint16) Flow {
	return Flow{
		Origin:  Tuple{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: ProtoTCP, SrcPort: sport, DstPort: dport},
		Timeout: 120,
		TCP:     &TCPInfo{State: TCPEstablished},
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
