package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	mobyipvs "github.com/moby/ipvs"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/ipvs"
)

// The IPVS workloads: Services TCP virtual services with Endpoints
// masquerade destinations each (kube-proxy's IPVS mode shape). This host
// kernel has no IPVS: run them in the VM runner (see README.md).

var ipvsAvail = sync.OnceValue(func() string {
	c, err := ipvs.Dial(nil) // resolves the genetlink family, changes nothing
	if errors.Is(err, ipvs.ErrNotSupported) {
		return "kernel has no IPVS (ErrNotSupported)"
	}
	if err != nil {
		return "IPVS: " + err.Error()
	}
	c.Close()
	return ""
})

func ipvsSkip(Size) string { return ipvsAvail() }

func ipvsConfig(s Size) []ipvs.Service {
	out := make([]ipvs.Service, s.Services)
	for i := range out {
		svc := ipvs.Service{ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: vip(i), Port: 80}, Scheduler: ipvs.RoundRobin}
		for j := range s.Endpoints {
			svc.Destinations = append(svc.Destinations, ipvs.Destination{
				DestinationKey: ipvs.DestinationKey{Addr: endpoint(i, j, s.Endpoints), Port: 8080},
				Forward:        ipvs.Masquerade, Weight: 1})
		}
		out[i] = svc
	}
	return out
}

func ipvsDial(e *Env) (*ipvs.Conn, error) { return ipvs.Dial(&ipvs.Config{NetNS: e.NS.FD()}) }

func ipvsCount(e *Env) (svcs, dests int, err error) {
	c, err := ipvsDial(e)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	ss, err := c.ListServices(context.Background())
	for _, s := range ss {
		dests += len(s.Destinations)
	}
	return len(ss), dests, err
}

func ipvsWorkloads() []*Workload {
	dests := func(s Size) int { return s.Services * s.Endpoints }
	return []*Workload{{
		Name: "ipvs/apply", Unit: "destinations", Units: dests, Skip: ipvsSkip,
		Desc:  "load the services and destinations into an empty namespace",
		Setup: func(e *Env) error { return e.NS.LoopbackUp() },
		Check: func(e *Env, peer string, smp Sample) error {
			s, d, err := ipvsCount(e)
			if err != nil {
				return err
			}
			if s != e.Size.Services || d != dests(e.Size) {
				return fmt.Errorf("%d services, %d destinations; want %d, %d", s, d, e.Size.Services, dests(e.Size))
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := ipvs.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				cfg := ipvsConfig(s)
				return Prepared{Note: "Apply (plan, then pipelined)", Op: func(ctx context.Context) (int, error) {
					_, err := c.Apply(ctx, cfg, nil)
					return 0, err
				}}, nil
			}},
			{Name: "ipvsadm -R", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				var b bytes.Buffer
				err := ipvs.Save(&b, ipvsConfig(e.Size))
				return []string{"ipvsadm", "-R"}, b.String(), err
			}},
			{Name: "moby/ipvs", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := mobyipvs.New("")
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "NewService, NewDestination: one request each", Op: func(ctx context.Context) (int, error) {
					for i := range s.Services {
						svc := &mobyipvs.Service{AddressFamily: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Address: net.IP(vip(i).AsSlice()), Port: 80, SchedName: mobyipvs.RoundRobin, Netmask: 0xffffffff}
						if err := h.NewService(svc); err != nil {
							return 0, err
						}
						for j := range s.Endpoints {
							d := &mobyipvs.Destination{AddressFamily: unix.AF_INET, Address: net.IP(endpoint(i, j, s.Endpoints).AsSlice()), Port: 8080, Weight: 1, ConnectionFlags: mobyipvs.ConnectionFlagMasq}
							if err := h.NewDestination(svc, d); err != nil {
								return 0, err
							}
						}
					}
					return 0, nil
				}}, nil
			}},
		},
	}, {
		Name: "ipvs/list", Unit: "destinations", Units: dests, Skip: ipvsSkip,
		Desc: "list every service with its destinations",
		Setup: func(e *Env) error {
			if err := e.NS.LoopbackUp(); err != nil {
				return err
			}
			c, err := ipvsDial(e)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Apply(context.Background(), ipvsConfig(e.Size), nil)
			return err
		},
		Check: func(e *Env, peer string, smp Sample) error {
			if smp.Count != dests(e.Size) {
				return fmt.Errorf("%s listed %d destinations, want %d", peer, smp.Count, dests(e.Size))
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := ipvs.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					ss, err := c.ListServices(ctx)
					n := 0
					for _, s := range ss {
						n += len(s.Destinations)
					}
					return n, err
				}}, nil
			}},
			{Name: "ipvsadm -Sn", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"ipvsadm", "-Sn"}, "", nil
			}, Count: func(out []byte) int { return strings.Count(string(out), "-a ") }},
			{Name: "moby/ipvs", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := mobyipvs.New("")
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "GetServices, then GetDestinations per service", Op: func(ctx context.Context) (int, error) {
					ss, err := h.GetServices()
					if err != nil {
						return 0, err
					}
					n := 0
					for _, s := range ss {
						ds, err := h.GetDestinations(s)
						if err != nil {
							return n, err
						}
						n += len(ds)
					}
					return n, nil
				}}, nil
			}},
		},
	}}
}
