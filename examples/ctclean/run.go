package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/examples/internal/netlab"
)

type options struct {
	Flows  int // per backend
	result *Result
}

// Result is what happened, for the test.
type Result struct {
	Deleted       int
	DestroyEvents int // destroy events seen for the removed backend
	LeftRemoved   int // entries still pointing at the removed backend
	LeftKept      int // entries of the backend that stays
}

var (
	vip     = netip.MustParseAddr("203.0.113.10")
	removed = netip.MustParseAddr("198.51.100.2")
	kept    = netip.MustParseAddr("198.51.100.6")
	client  = netip.MustParseAddr("192.0.2.2")
)

const (
	vipPort     = 53
	backendPort = 5353
)

func run(ctx context.Context, out io.Writer, opts options) (err error) {
	res := opts.result
	if res == nil {
		res = &Result{}
	}
	var lab netlab.Lab
	defer func() {
		if cerr := lab.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ns, err := lab.NS("ctclean")
	if err != nil {
		return err
	}
	c, err := conntrack.Dial(&conntrack.Config{NetNS: ns.FD()})
	if err != nil {
		return err
	}
	defer c.Close()

	// Watch destroy events on their own socket. It subscribes before the
	// flows exist: with net.netfilter.nf_conntrack_events=2 (the default)
	// the kernel only prepares events for flows created while someone
	// listens.
	evctx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	done := make(chan int)
	go func() {
		n := 0
		filter := conntrack.Filter{Reply: &conntrack.TupleFilter{Src: removed}}
		for ev, err := range c.Listen(evctx, conntrack.GroupDestroy, filter) {
			if err != nil {
				continue
			}
			if ev.Type == conntrack.EventDestroy {
				n++
			}
		}
		done <- n
	}()
	time.Sleep(100 * time.Millisecond) // let the event socket subscribe

	// The entries a DNAT service leaves behind: client -> VIP:53 in the
	// original direction, backend:5353 -> client in the reply direction.
	b := c.NewBatch()
	for i := range opts.Flows {
		for j, backend := range []netip.Addr{removed, kept} {
			sport := uint16(20000 + 10000*j + i) // each client connection is one flow
			if err := b.Create(conntrack.Flow{
				Origin:  conntrack.Tuple{Src: client, Dst: vip, Proto: conntrack.ProtoUDP, SrcPort: sport, DstPort: vipPort},
				Reply:   conntrack.Tuple{Src: backend, Dst: client, Proto: conntrack.ProtoUDP, SrcPort: backendPort, DstPort: sport},
				Timeout: 120,
			}); err != nil {
				return err
			}
		}
	}
	if err := b.Commit(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "# conntrack cleanup in namespace %s\ncreated %d flows to %s:%d, DNATed to %s and %s\n",
		ns.Name, 2*opts.Flows, vip, vipPort, removed, kept)

	// `conntrack -D -r 198.51.100.2 -p udp`: the kernel filters the dump,
	// nfkit deletes by id while it streams.
	res.Deleted, err = c.DeleteMatching(ctx, conntrack.Filter{
		Reply: &conntrack.TupleFilter{Src: removed, Proto: conntrack.ProtoUDP}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted %d flows whose reply comes from %s (like conntrack -D -r %s -p udp)\n", res.Deleted, removed, removed)

	// Give the events a moment to arrive, then stop watching.
	time.Sleep(300 * time.Millisecond)
	stopEvents()
	res.DestroyEvents = <-done
	fmt.Fprintf(out, "saw %d destroy events for %s\n", res.DestroyEvents, removed)

	for _, x := range []struct {
		addr netip.Addr
		n    *int
	}{{removed, &res.LeftRemoved}, {kept, &res.LeftKept}} {
		flows, err := c.List(ctx, conntrack.Filter{Reply: &conntrack.TupleFilter{Src: x.addr}})
		if err != nil {
			return err
		}
		*x.n = len(flows)
	}
	fmt.Fprintf(out, "left: %d flows to %s, %d flows to %s\n", res.LeftRemoved, removed, res.LeftKept, kept)
	return nil
}
