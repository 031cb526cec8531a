package ipvs_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/nfkit/nfkit/ipvs"
)

// Save prints services as `ipvsadm -S -n` does; ParseRules reads that
// text back (the format `ipvsadm -R` takes). Neither touches the kernel.
func ExampleSave() {
	svcs := []ipvs.Service{{
		ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
		Scheduler:  ipvs.RoundRobin,
		Destinations: []ipvs.Destination{
			{DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.2"), Port: 8080}, Forward: ipvs.Masquerade, Weight: 1},
			{DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080}, Forward: ipvs.Masquerade, Weight: 2},
		},
	}}
	_ = ipvs.Save(os.Stdout, svcs)
	// Output:
	// -A -t 192.0.2.1:80 -s rr
	// -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 2
	// -a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 1
}

func ExampleParseRules() {
	svcs, err := ipvs.ParseRules(strings.NewReader("-A -u [2001:db8::1]:53 -s sh -b sh-port -p 60\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := svcs[0]
	fmt.Println(s.Protocol, s.Addr, s.Port, s.Scheduler, s.Flags == ipvs.FlagSHPort, s.Timeout)
	// Output: udp 2001:db8::1 53 sh true 1m0s
}

// Plan shows what Apply would do, in its safe order, without a kernel.
func ExamplePlan() {
	key := ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	rs := func(a string) ipvs.Destination {
		return ipvs.Destination{DestinationKey: ipvs.DestinationKey{Addr: netip.MustParseAddr(a), Port: 80}, Weight: 1}
	}
	current := []ipvs.Service{{ServiceKey: key, Scheduler: ipvs.RoundRobin, Destinations: []ipvs.Destination{rs("198.51.100.1")}}}
	desired := []ipvs.Service{{ServiceKey: key, Scheduler: ipvs.RoundRobin, Destinations: []ipvs.Destination{rs("198.51.100.2")}}}
	plan, _ := ipvs.Plan(current, desired, nil)
	for _, ch := range plan {
		fmt.Println(ch)
	}
	// Output:
	// add destination -t 192.0.2.1:80 -r 198.51.100.2:80
	// delete destination -t 192.0.2.1:80 -r 198.51.100.1:80
}
