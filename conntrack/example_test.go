package conntrack_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/nfkit/nfkit/conntrack"
	"github.com/nfkit/nfkit/internal/nstest"
)

// Create flows in a throwaway namespace, then delete those of one
// service/backend pair with a filter the kernel evaluates.
func Example() {
	ns, err := nstest.Create("nfkit-example")
	if err != nil {
		panic(err)
	}
	defer ns.Close()
	c, err := conntrack.Dial(&conntrack.Config{NetNS: ns.FD()})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	b := c.NewBatch()
	for i, dst := range []string{"192.0.2.10", "192.0.2.10", "192.0.2.11"} {
		err := b.Create(conntrack.Flow{
			Origin: conntrack.Tuple{
				Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr(dst),
				Proto: conntrack.ProtoTCP, SrcPort: uint16(40000 + i), DstPort: 8080,
			},
			Timeout: 60,
		})
		if err != nil {
			panic(err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		panic(err)
	}
	n, _ := c.Count(ctx)
	fmt.Println("created", n)

	deleted, err := c.DeleteMatching(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{
		Dst: netip.MustParseAddr("192.0.2.10"), Proto: conntrack.ProtoTCP, DstPort: 8080,
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println("deleted", deleted)
	flows, _ := c.List(ctx, conntrack.Filter{})
	fmt.Println("left", len(flows))
	// Output:
	// created 3
	// deleted 2
	// left 1
}

// Invalid filters are refused before anything is sent (so dialing the
// caller's namespace is harmless here).
func ExampleConn_List_invalid() {
	c, err := conntrack.Dial(nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_, err = c.List(context.Background(), conntrack.Filter{
		Family: conntrack.IPv4,
		Origin: &conntrack.TupleFilter{Src: netip.MustParseAddr("2001:db8::1")},
	})
	fmt.Println(err)
	// Output:
	// conntrack: invalid argument: Filter.Origin.Src 2001:db8::1: address is not ipv4 like the rest of the filter
}
