package conntrack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
)

// startListen runs Listen in a goroutine and forwards what it yields. It
// returns once the subscription is live (a probe flow's event arrived).
func startListen(t *testing.T, c *Conn, groups Groups, filter Filter, probe Flow, block <-chan struct{}) (<-chan Event, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	evs := make(chan Event, 100000)
	errs := make(chan error, 100)
	go func() {
		first := true
		for ev, err := range c.Listen(ctx, groups|GroupNew, filter) {
			if err != nil {
				errs <- err
				continue
			}
			evs <- ev
			if first && block != nil {
				first = false
				<-block
			}
		}
	}()
	// Wait for the subscription: create probe flows until one is seen.
	for i := 0; i < 50; i++ {
		probe.Origin.SrcPort = uint16(i + 1)
		require.NoError(t, c.Create(testCtx(t), probe))
		select {
		case ev := <-evs:
			require.Equal(t, EventNew, ev.Type)
			return evs, errs
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no event from the probe flows")
	return nil, nil
}

func TestEventsNewUpdateDestroy(t *testing.T) {
	_, c := newTestConn(t)
	ctx := testCtx(t)
	// Only TCP flows to port 80 pass the filter.
	probe := tcpFlow("192.0.2.250", "192.0.2.251", 0, 80)
	evs, errs := startListen(t, c, GroupFlows, Filter{Origin: &TupleFilter{Proto: ProtoTCP, DstPort: 80}}, probe, nil)

	f := tcpFlow("192.0.2.1", "192.0.2.2", 5555, 80)
	require.NoError(t, c.Create(ctx, f))
	require.NoError(t, c.Create(ctx, tcpFlow("192.0.2.1", "192.0.2.2", 5555, 81))) // filtered out
	f.Mark = 9
	require.NoError(t, c.Update(ctx, f))
	require.NoError(t, c.Delete(ctx, f))

	var got []Event
	timeout := time.After(5 * time.Second)
	for len(got) < 3 {
		select {
		case ev := <-evs:
			got = append(got, ev)
		case err := <-errs:
			t.Fatalf("listen: %v", err)
		case <-timeout:
			t.Fatalf("got %d events, want 3", len(got))
		}
	}
	require.Equal(t, []EventType{EventNew, EventUpdate, EventDestroy}, []EventType{got[0].Type, got[1].Type, got[2].Type})
	for _, ev := range got {
		require.Equal(t, uint16(80), ev.Flow.Origin.DstPort)
		require.Equal(t, uint16(5555), ev.Flow.Origin.SrcPort)
	}
	require.Equal(t, uint32(9), got[1].Flow.Mark)
	select {
	case ev := <-evs:
		t.Fatalf("unexpected event %v %v", ev.Type, ev.Flow)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestEventsOverflowReportedAndStreamContinues(t *testing.T) {
	ns, _ := newTestConn(t)
	// A tiny buffer that a few hundred events overflow.
	c, err := Dial(&Config{NetNS: ns.FD(), EventBuffer: 4096})
	require.NoError(t, err)
	defer c.Close()
	ctx := testCtx(t)
	block := make(chan struct{})
	evs, errs := startListen(t, c, GroupFlows, Filter{}, tcpFlow("192.0.2.250", "192.0.2.251", 0, 9), block)
	// The consumer is stuck on the probe's event: flood.
	b := c.NewBatch()
	for i := 0; i < 2000; i++ {
		require.NoError(t, b.Create(tcpFlow("198.51.100.1", "198.51.100.2", uint16(2000+i), 80)))
	}
	require.NoError(t, b.Commit(ctx))
	close(block)

	select {
	case err := <-errs:
		require.True(t, errors.Is(err, ErrEventsLost), "got %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no ErrEventsLost after overflowing the buffer")
	}
	// The stream keeps going: drain, then a new flow is still reported.
	time.Sleep(200 * time.Millisecond)
	for len(evs) > 0 {
		<-evs
	}
	marker := tcpFlow("198.51.100.9", "198.51.100.10", 7, 7)
	require.NoError(t, c.Create(ctx, marker))
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-evs:
			if ev.Flow != nil && ev.Flow.Origin.Src == marker.Origin.Src {
				return
			}
		case <-deadline:
			t.Fatal("stream stopped after the overflow")
		}
	}
}

// TestListenStaysInNamespace: Listen's socket, dialed after Dial, joins
// the groups in the namespace of the Conn's socket even when the
// Config.NetNS descriptor was closed since and its number now names the
// host's namespace (startListen fails unless the probe's event, created
// in the namespace, arrives).
func TestListenStaysInNamespace(t *testing.T) {
	ns := nstest.New(t)
	dup, err := unix.Dup(ns.FD())
	require.NoError(t, err)
	c, err := Dial(&Config{NetNS: dup})
	require.NoError(t, err)
	defer c.Close()
	unix.Close(dup)
	host, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(host)
	startListen(t, c, GroupFlows, Filter{}, tcpFlow("192.0.2.250", "192.0.2.251", 0, 9), nil)
}
