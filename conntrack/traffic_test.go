package conntrack

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

// Real traffic between two namespaces: the flows the kernel creates are
// seen by All and Listen, and deleting them breaks the connection once the
// namespace drops packets conntrack no longer recognises.
func TestRealTrafficFlows(t *testing.T) {
	nstest.RequireTool(t, "nft")
	a := nstest.New(t)
	b := nstest.New(t)
	nstest.Connect(t, a, "va", netip.MustParsePrefix("192.0.2.1/24"), b, "vb", netip.MustParsePrefix("192.0.2.2/24"))
	// Make b track (and police) connections: a packet of no known flow
	// that is not a SYN is dropped, so a deleted flow stays broken.
	b.RunInput(t, `table ip t {
	chain c {
		type filter hook prerouting priority 0;
		ct state new tcp flags & (syn | ack) != syn drop
		ct state new counter
	}
}
`, "nft", "-f", "-")
	c, err := Dial(&Config{NetNS: b.FD()})
	require.NoError(t, err)
	defer c.Close()
	ctx := testCtx(t)

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evs := make(chan Event, 100)
	go func() {
		for ev, err := range c.Listen(lctx, GroupFlows, Filter{Origin: &TupleFilter{Proto: ProtoTCP, DstPort: 7777}}) {
			if err == nil {
				evs <- ev
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription start

	// An echo server inside b.
	var ln net.Listener
	require.NoError(t, b.Do(func() (err error) {
		ln, err = net.Listen("tcp4", "192.0.2.2:7777")
		return err
	}))
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					conn.Write([]byte(l))
				}
			}()
		}
	}()
	var conn net.Conn
	require.NoError(t, a.Do(func() (err error) {
		conn, err = net.DialTimeout("tcp4", "192.0.2.2:7777", 5*time.Second)
		return err
	}))
	defer conn.Close()
	r := bufio.NewReader(conn)
	echo := func() error {
		conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte("ping\n")); err != nil {
			return err
		}
		l, err := r.ReadString('\n')
		if err == nil && strings.TrimSpace(l) != "ping" {
			t.Fatalf("echo %q", l)
		}
		return err
	}
	require.NoError(t, echo())

	filter := Filter{Origin: &TupleFilter{Src: netip.MustParseAddr("192.0.2.1"), Proto: ProtoTCP, DstPort: 7777}}
	flows, err := c.List(ctx, filter)
	require.NoError(t, err)
	require.Len(t, flows, 1)
	f := flows[0]
	local := conn.LocalAddr().(*net.TCPAddr)
	require.Equal(t, uint16(local.Port), f.Origin.SrcPort)
	require.Equal(t, TCPEstablished, f.TCP.State)
	require.True(t, f.Status&StatusAssured != 0, "status %s", f.Status)

	select {
	case ev := <-evs:
		require.Equal(t, EventNew, ev.Type)
		require.Equal(t, f.Origin.SrcPort, ev.Flow.Origin.SrcPort)
	case <-time.After(5 * time.Second):
		t.Fatal("no NEW event for the real connection")
	}

	n, err := c.DeleteMatching(ctx, filter)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Error(t, echo(), "the connection must break once its flow is gone")
	// A DESTROY event came for it.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-evs:
			if ev.Type == EventDestroy {
				require.Equal(t, f.Origin.SrcPort, ev.Flow.Origin.SrcPort)
				goto pinged
			}
		case <-deadline:
			t.Fatal("no DESTROY event")
		}
	}
pinged:
	// ICMP: a ping creates an echo flow with its id.
	a.Run(t, "busybox", "ping", "-c", "1", "-W", "2", "192.0.2.2")
	icmp, err := c.List(ctx, Filter{Origin: &TupleFilter{Proto: ProtoICMP, ICMPType: U8(8)}})
	require.NoError(t, err)
	require.Len(t, icmp, 1)
	require.Equal(t, netip.MustParseAddr("192.0.2.1"), icmp[0].Origin.Src)
	require.Equal(t, uint8(0), icmp[0].Reply.ICMPType)
}
