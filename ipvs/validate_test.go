package ipvs

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestValidation(t *testing.T) {
	vip := netip.MustParseAddr("192.0.2.1")
	rip := DestinationKey{Addr: netip.MustParseAddr("198.51.100.1"), Port: 80}
	ok := Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: vip, Port: 80}, Scheduler: RoundRobin}
	for _, tc := range []struct {
		name, field string
		mutate      func(s *Service)
	}{
		{"unknown scheduler", "scheduler", func(s *Service) { s.Scheduler = "fastest" }},
		{"port 0", "port", func(s *Service) { s.Port = 0 }},
		{"fwmark 0 without address", "fwmark", func(s *Service) { s.Addr = netip.Addr{}; s.Port = 0; s.Protocol = 0 }},
		{"fwmark with address", "fwmark", func(s *Service) { s.FWMark = 3 }},
		{"weight", "weight", func(s *Service) { s.Destinations = []Destination{{DestinationKey: rip, Weight: 70000}} }},
		{"negative weight", "weight", func(s *Service) { s.Destinations = []Destination{{DestinationKey: rip, Weight: -1}} }},
		{"IPv6 netmask", "netmask", func(s *Service) {
			s.Addr = netip.MustParseAddr("2001:db8::1")
			s.Netmask = 129
		}},
		{"IPv4 netmask", "netmask", func(s *Service) { s.Netmask = 33 }},
		{"protocol", "protocol", func(s *Service) { s.Protocol = 1 }},
		{"family mismatch", "address", func(s *Service) { s.Family = IPv6 }},
		{"timeout fraction", "timeout", func(s *Service) { s.Timeout = 1500 * time.Millisecond }},
		{"thresholds", "threshold", func(s *Service) {
			s.Destinations = []Destination{{DestinationKey: rip, UpperThreshold: 5, LowerThreshold: 6}}
		}},
		{"tunnel port without GUE", "tunnel", func(s *Service) {
			s.Destinations = []Destination{{DestinationKey: rip, Forward: Tunnel, TunnelPort: 5}}
		}},
		{"tunnel options without tunnel", "tunnel", func(s *Service) {
			s.Destinations = []Destination{{DestinationKey: rip, TunnelType: TunnelGRE}}
		}},
		{"GUE without port", "tunnel port", func(s *Service) {
			s.Destinations = []Destination{{DestinationKey: rip, Forward: Tunnel, TunnelType: TunnelGUE}}
		}},
	} {
		s := ok
		tc.mutate(&s)
		err := s.validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want ErrInvalid naming %q", tc.name, err, tc.field)
		}
	}
	if err := ok.validate(); err != nil {
		t.Errorf("valid service rejected: %v", err)
	}
	persistentAllPorts := ok
	persistentAllPorts.Port, persistentAllPorts.Timeout = 0, time.Minute
	if err := persistentAllPorts.validate(); err != nil {
		t.Errorf("persistent port-0 service rejected: %v", err)
	}
	if err := (&Daemon{State: Master, Interface: "eth0", SyncID: 300}).validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("syncid 300: %v", err)
	}
}

// Bad input is rejected before any I/O: a Conn whose socket is nil
// would panic if anything were sent.
func TestInvalidBeforeIO(t *testing.T) {
	c := &Conn{}
	ctx := context.Background()
	bad := &Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}, Scheduler: "nope"}
	if err := c.AddService(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddService: %v", err)
	}
	if err := c.DeleteService(ctx, ServiceKey{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteService: %v", err)
	}
	if _, err := c.Apply(ctx, []Service{*bad}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Apply: %v", err)
	}
	b := c.NewBatch()
	b.AddService(&Service{ServiceKey: bad.ServiceKey, Scheduler: RoundRobin})
	b.AddService(bad)
	if _, err := b.Commit(ctx); !errors.Is(err, ErrInvalid) {
		t.Errorf("Batch: %v", err)
	}
	if err := c.SetTimeouts(ctx, Timeouts{TCP: time.Millisecond}); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetTimeouts: %v", err)
	}
}
