package ipvs

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
)

// Decoders never panic, and decode → encode → decode is stable.
func FuzzDecodeService(f *testing.F) {
	f.Add(encodeService(&Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}, Scheduler: "rr"}, true))
	f.Add(encodeService(&Service{ServiceKey: ServiceKey{Family: IPv6, FWMark: 3}, Scheduler: "sh", Timeout: time.Minute, Netmask: 48,
		State: &ServiceState{Has64: true, Stats: Stats{Conns: 1}}}, true))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeService(b)
		if err != nil {
			return
		}
		b2 := encodeService(s, true)
		again, err := decodeService(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if b3 := encodeService(again, true); !bytes.Equal(b2, b3) {
			t.Fatalf("unstable:\n%#v\n%#v", s, again)
		}
	})
}

func FuzzDecodeDestination(f *testing.F) {
	f.Add(encodeDest(&Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}, Weight: 1}, true))
	f.Add(encodeDest(&Destination{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("2001:db8::1"), Port: 80}, Forward: Tunnel,
		TunnelType: TunnelGUE, TunnelPort: 1, State: &DestinationState{ActiveConns: 1}}, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDestination(b, IPv4)
		if err != nil {
			return
		}
		b2 := encodeDest(d, true)
		d2, err := decodeDestination(b2, IPv4)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(encodeDest(d2, true), b2) {
			t.Fatalf("unstable: %+v / %+v", d, d2)
		}
	})
}

func FuzzDecodeDaemon(f *testing.F) {
	ae := netlink.NewAttributeEncoder()
	(&Daemon{State: Master, Interface: "lo", Group: netip.MustParseAddr("224.0.0.81")}).encode(ae)
	b, _ := ae.Encode()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDaemon(b)
		if err != nil {
			return
		}
		ae := netlink.NewAttributeEncoder()
		d.encode(ae)
		b2, _ := ae.Encode()
		if _, err := decodeDaemon(b2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzParseRules(f *testing.F) {
	f.Add("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n")
	f.Add("-A -f 7 -6 -s sh -p 60 -M 64 -b sh-port\n")
	f.Fuzz(func(t *testing.T, text string) {
		svcs, err := ParseRules(bytes.NewReader([]byte(text)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Save(&out, svcs); err != nil {
			t.Fatal(err)
		}
		saved := out.String()
		again, err := ParseRules(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("saved text does not parse: %v\n%s", err, out.String())
		}
		var out2 bytes.Buffer
		_ = Save(&out2, again)
		if saved != out2.String() {
			t.Fatalf("save/parse unstable:\n%s\n%s", saved, out2.String())
		}
	})
}
