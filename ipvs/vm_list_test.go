//go:build vmtest

package ipvs

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// listConfig is 60 small services and one of 250 destinations: the big
// one's dump spans a dozen datagrams of the destination sockets (7872
// bytes, about 21 servers each), the small ones one datagram each.
func listConfig() []Service {
	cfg := bigConfig(60, 2)
	big := &cfg[5]
	big.Destinations = nil
	for j := range 250 {
		big.Destinations = append(big.Destinations, Destination{DestinationKey: DestinationKey{
			Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), Port: uint16(20000 + j)}, Forward: Masquerade, Weight: j})
	}
	return cfg
}

// ListServices over one and several destination sockets, fresh and
// pooled, reads exactly what ipvsadm -Sn reads, in the kernel's order.
func TestVMListServicesWorkers(t *testing.T) {
	c, ns := dialNS(t)
	if _, err := c.Apply(context.Background(), listConfig(), nil); err != nil {
		t.Fatal(err)
	}
	want := ns.Run(t, "ipvsadm", "-Sn")
	for _, w := range []int{1, 3, 8} {
		lc, err := Dial(&Config{NetNS: ns.FD(), ListWorkers: w})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 { // the second on pooled sockets
			svcs, err := lc.ListServices(context.Background())
			if err != nil {
				t.Fatalf("workers=%d round %d: %v", w, round, err)
			}
			if got := saveText(t, svcs); got != want {
				t.Errorf("workers=%d round %d: ListServices saves as\n%s\nipvsadm -Sn:\n%s", w, round, got, want)
			}
			n := 0
			for _, s := range svcs {
				n += len(s.Destinations)
				for _, d := range s.Destinations {
					if d.State == nil {
						t.Fatalf("workers=%d: %v has no state", w, d.DestinationKey)
					}
				}
			}
			if len(svcs) != 60 || n != 59*2+250 {
				t.Errorf("workers=%d round %d: %d services, %d destinations", w, round, len(svcs), n)
			}
		}
		lc.Close()
	}
}

// A listing cut short by the caller's context returns the context's error
// (or completes), and leaves no stale replies on pooled sockets: the next
// listing on the same Conn is complete.
func TestVMListServicesDeadline(t *testing.T) {
	c, ns := dialNS(t)
	if _, err := c.Apply(context.Background(), listConfig(), nil); err != nil {
		t.Fatal(err)
	}
	want := ns.Run(t, "ipvsadm", "-Sn")
	cut := 0
	for _, d := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		svcs, err := c.ListServices(ctx)
		cancel()
		switch {
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("deadline %v: %v", d, err)
		case err != nil:
			cut++
		case saveText(t, svcs) != want:
			t.Errorf("deadline %v: listing completed but differs", d)
		}
		svcs, err = c.ListServices(context.Background())
		if err != nil {
			t.Fatalf("after deadline %v: %v", d, err)
		}
		if got := saveText(t, svcs); got != want {
			t.Errorf("after deadline %v: ListServices saves as\n%s\nwant\n%s", d, got, want)
		}
	}
	if cut == 0 {
		t.Error("no deadline cut a listing short (the zero one must)")
	}
}
