//go:build vmtest

package ipvs

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// bigConfig is nServices TCP services with nDests masquerade servers each.
func bigConfig(nServices, nDests int) []Service {
	out := make([]Service, nServices)
	for i := range out {
		// Documentation addresses only; no packet is sent anyway.
		vip := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%200)})
		s := Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: vip, Port: uint16(1000 + i)}, Scheduler: RoundRobin}
		for j := range nDests {
			s.Destinations = append(s.Destinations, Destination{DestinationKey: DestinationKey{
				Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + j)}), Port: uint16(10000 + i)}, Forward: Masquerade, Weight: 1})
		}
		out[i] = s
	}
	return out
}

// BenchmarkApply2000x10 loads 2 000 services x 10 destinations into an
// empty namespace with nfkit's Apply and with `ipvsadm -R`, in the same
// run; the ratio metric is ipvsadm's time over nfkit's (>1: nfkit faster).
func BenchmarkApply2000x10(b *testing.B) {
	cfg := bigConfig(2000, 10)
	var text bytes.Buffer
	_ = Save(&text, cfg)
	var nfkitT, ipvsadmT time.Duration
	b.Run("nfkit", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ns := nstest.New(b)
			c, err := Dial(&Config{NetNS: ns.FD()})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			if _, err := c.Apply(context.Background(), cfg, nil); err != nil {
				b.Fatal(err)
			}
			nfkitT += time.Since(start)
			b.StopTimer()
			c.Close()
			ns.Close()
			b.StartTimer()
		}
		nfkitT /= time.Duration(b.N)
	})
	b.Run("ipvsadm-R", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ns := nstest.New(b)
			b.StartTimer()
			start := time.Now()
			ns.RunInput(b, text.String(), "ipvsadm", "-R")
			ipvsadmT += time.Since(start)
			b.StopTimer()
			ns.Close()
			b.StartTimer()
		}
		ipvsadmT /= time.Duration(b.N)
	})
	if nfkitT > 0 {
		b.ReportMetric(float64(ipvsadmT)/float64(nfkitT), "ipvsadm/nfkit")
		fmt.Printf("apply 2000x10: nfkit %v, ipvsadm -R %v, ratio %.2f\n", nfkitT, ipvsadmT, float64(ipvsadmT)/float64(nfkitT))
	}
}

// BenchmarkList2000x10 lists the same configuration with ListServices
// and with `ipvsadm -Sn`.
func BenchmarkList2000x10(b *testing.B) {
	ns := nstest.New(b)
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Apply(context.Background(), bigConfig(2000, 10), nil); err != nil {
		b.Fatal(err)
	}
	var nfkitT, ipvsadmT time.Duration
	b.Run("nfkit", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			svcs, err := c.ListServices(context.Background())
			if err != nil || len(svcs) != 2000 || len(svcs[0].Destinations) != 10 {
				b.Fatalf("list: %d services, %v", len(svcs), err)
			}
		}
		nfkitT = time.Since(start) / time.Duration(b.N)
	})
	b.Run("ipvsadm-Sn", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			ns.Run(b, "ipvsadm", "-Sn")
		}
		ipvsadmT = time.Since(start) / time.Duration(b.N)
	})
	if nfkitT > 0 {
		b.ReportMetric(float64(ipvsadmT)/float64(nfkitT), "ipvsadm/nfkit")
		fmt.Printf("list 2000x10: nfkit %v, ipvsadm -Sn %v, ratio %.2f\n", nfkitT, ipvsadmT, float64(ipvsadmT)/float64(nfkitT))
	}
}
