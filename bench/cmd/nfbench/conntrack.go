package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/conntrack"
)

// The conntrack workloads fill a namespace's table with Flows TCP flows
// to 100 service addresses (so one service is 1% of the table), created
// with nfkit off the clock; no packet is ever sent.

const ctServices = 100

// ctService is the service whose flows the filtered delete removes.
var ctService = netip.AddrFrom4([4]byte{192, 0, 2, 7})

func ctFlow(i int) conntrack.Flow {
	return conntrack.Flow{
		Origin: conntrack.Tuple{
			Src:     netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + (i/ctServices)%250)}),
			Dst:     netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%ctServices)}),
			Proto:   conntrack.ProtoTCP,
			SrcPort: uint16(1024 + i/(ctServices*250)),
			DstPort: 8080,
		},
		Timeout: 3600,
		TCP:     &conntrack.TCPInfo{State: conntrack.TCPEstablished},
	}
}

// ctSkip: nf_conntrack_max is global and read-only inside a namespace, so
// a size above it cannot be measured without changing the host.
func ctSkip(s Size) string {
	b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
	if err != nil {
		return "no conntrack in this kernel"
	}
	m, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if m < s.Flows {
		return fmt.Sprintf("%d flows need net.netfilter.nf_conntrack_max >= %d; it is %d, global and read-only inside a namespace (not changed on the host)", s.Flows, s.Flows, m)
	}
	return ""
}

func ctDial(e *Env) (*conntrack.Conn, error) {
	return conntrack.Dial(&conntrack.Config{NetNS: e.NS.FD()})
}

func ctFill(e *Env) error {
	c, err := ctDial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.NewBatch()
	for i := range e.Size.Flows {
		if err := b.Create(ctFlow(i)); err != nil {
			return err
		}
	}
	if err := b.Commit(context.Background()); err != nil {
		return err
	}
	n, err := c.Count(context.Background())
	if err != nil {
		return err
	}
	if n != e.Size.Flows {
		return fmt.Errorf("setup made %d flows, want %d", n, e.Size.Flows)
	}
	return nil
}

func ctCheckCount(want func(Size) int) func(e *Env, peer string, smp Sample) error {
	return func(e *Env, peer string, smp Sample) error {
		c, err := ctDial(e)
		if err != nil {
			return err
		}
		defer c.Close()
		// Count the flows by dumping: the global counter lags behind
		// deletions of flows whose freeing is deferred.
		n := 0
		for _, err := range c.All(context.Background(), conntrack.Filter{}) {
			if err != nil {
				return err
			}
			n++
		}
		if n != want(e.Size) {
			return fmt.Errorf("%d flows left, want %d", n, want(e.Size))
		}
		return nil
	}
}

func ctDeleted(s Size) int { return (s.Flows + ctServices - 7) / ctServices }

func ctWorkloads() []*Workload {
	flows := func(s Size) int { return s.Flows }
	return []*Workload{{
		Name: "conntrack/dump", Unit: "flows", Units: flows, Skip: ctSkip,
		Desc:  "dump the whole conntrack table",
		Setup: ctFill,
		Check: func(e *Env, peer string, smp Sample) error {
			if smp.Count != e.Size.Flows {
				return fmt.Errorf("%s dumped %d flows, want %d", peer, smp.Count, e.Size.Flows)
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := conntrack.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "All (streaming, flows not kept)", Op: func(ctx context.Context) (int, error) {
					n := 0
					for _, err := range c.All(ctx, conntrack.Filter{}) {
						if err != nil {
							return n, err
						}
						n++
					}
					return n, nil
				}}, nil
			}},
			{Name: "conntrack -L", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"conntrack", "-L"}, "", nil
			}, Count: func(out []byte) int { return strings.Count(string(out), "\n") }},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					fs, err := h.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
					return len(fs), err
				}}, nil
			}},
		},
	}, {
		Name: "conntrack/delete-1%", Unit: "deleted flows", Units: ctDeleted, Skip: ctSkip,
		Desc:  "delete the flows of one service (1% of the table) by destination address and port",
		Setup: ctFill,
		Check: ctCheckCount(func(s Size) int { return s.Flows - ctDeleted(s) }),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := conntrack.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "DeleteMatching: kernel-filtered dump (CTA_FILTER), pipelined deletes", Op: func(ctx context.Context) (int, error) {
					return c.DeleteMatching(ctx, conntrack.Filter{Origin: &conntrack.TupleFilter{Dst: ctService, Proto: conntrack.ProtoTCP, DstPort: 8080}})
				}}, nil
			}},
			{Name: "conntrack -D", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"conntrack", "-D", "-p", "tcp", "-d", ctService.String(), "--dport", "8080"}, "", nil
			}},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
				if err != nil {
					return Prepared{}, err
				}
				f := &netlink.ConntrackFilter{}
				if err := f.AddIP(netlink.ConntrackOrigDstIP, net.IP(ctService.AsSlice())); err != nil {
					return Prepared{}, err
				}
				if err := f.AddProtocol(unix.IPPROTO_TCP); err != nil {
					return Prepared{}, err
				}
				if err := f.AddPort(netlink.ConntrackOrigDstPort, 8080); err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "ConntrackDeleteFilters: dumps the whole table, matches in Go, one delete per flow", Op: func(ctx context.Context) (int, error) {
					n, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f)
					return int(n), err
				}}, nil
			}},
		},
	}, {
		Name: "conntrack/flush", Unit: "flows", Units: flows, Skip: ctSkip,
		Desc:  "flush the whole table",
		Setup: ctFill,
		Check: ctCheckCount(func(Size) int { return 0 }),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := conntrack.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					return c.Flush(ctx, 0)
				}}, nil
			}},
			{Name: "conntrack -F", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"conntrack", "-F"}, "", nil
			}},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					return 0, h.ConntrackTableFlush(netlink.ConntrackTable)
				}}, nil
			}},
		},
	}}
}
