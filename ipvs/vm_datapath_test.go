//go:build vmtest

package ipvs

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// A client namespace reaches a NAT virtual service in a director
// namespace whose two real servers live in two more namespaces; both real
// servers must answer, and the statistics nfkit reads must equal what
// `ipvsadm -Ln --stats --exact` prints.
func TestVMDatapath(t *testing.T) {
	c, dir := dialNS(t)
	client, rs1, rs2 := nstest.New(t), nstest.New(t), nstest.New(t)
	p := netip.MustParsePrefix
	nstest.Connect(t, client, "c0", p("192.0.2.2/24"), dir, "d0", p("192.0.2.1/24"))
	nstest.Connect(t, dir, "d1", p("198.51.100.1/24"), rs1, "r1", p("198.51.100.2/24"))
	nstest.Connect(t, dir, "d2", p("203.0.113.1/24"), rs2, "r2", p("203.0.113.2/24"))
	nstest.Route(t, rs1, p("192.0.2.0/24"), netip.MustParseAddr("198.51.100.1"))
	nstest.Route(t, rs2, p("192.0.2.0/24"), netip.MustParseAddr("203.0.113.1"))
	nstest.Sysctl(t, dir, "net.ipv4.ip_forward", "1")

	serve := func(ns *nstest.NS, addr, name string) {
		var ln net.Listener
		if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintln(conn, name)
				conn.Close()
			}
		}()
	}
	serve(rs1, "198.51.100.2:8080", "rs1")
	serve(rs2, "203.0.113.2:8080", "rs2")

	vip := ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}
	_, err := c.Apply(context.Background(), []Service{{ServiceKey: vip, Scheduler: RoundRobin, Destinations: []Destination{
		{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("198.51.100.2"), Port: 8080}, Forward: Masquerade, Weight: 1},
		{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("203.0.113.2"), Port: 8080}, Forward: Masquerade, Weight: 1},
	}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	answered := map[string]int{}
	for range 6 {
		var reply string
		err := client.Do(func() error {
			d := net.Dialer{Timeout: 5 * time.Second}
			conn, err := d.Dial("tcp", "192.0.2.1:80")
			if err != nil {
				return err
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			reply, err = bufio.NewReader(conn).ReadString('\n')
			return err
		})
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		answered[strings.TrimSpace(reply)]++
	}
	if answered["rs1"] != 3 || answered["rs2"] != 3 {
		t.Errorf("round robin over two real servers answered %v, want 3 each", answered)
	}

	// Counters are per CPU and summed by the kernel's rate estimator
	// every two seconds: wait for them.
	var s *Service
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		s, err = c.GetService(context.Background(), vip)
		if err != nil {
			t.Fatal(err)
		}
		if s.State != nil && s.State.Stats.Conns == 6 || time.Now().After(deadline) {
			break
		}
	}
	if s.State == nil || s.State.Stats.Conns != 6 || s.State.Stats.InPackets == 0 || s.State.Stats.OutBytes == 0 {
		t.Fatalf("service stats %+v", s.State)
	}
	out := dir.Run(t, "ipvsadm", "-Ln", "--stats", "--exact")
	want := fmt.Sprintf("TCP 192.0.2.1:80 %d %d %d %d %d", s.State.Stats.Conns, s.State.Stats.InPackets,
		s.State.Stats.OutPackets, s.State.Stats.InBytes, s.State.Stats.OutBytes)
	if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		t.Errorf("ipvsadm --stats --exact:\n%s\nnfkit: %s", out, want)
	}
	for _, d := range s.Destinations {
		line := fmt.Sprintf("-> %s %d %d %d %d %d", addrPort(d.Addr, d.Port), d.State.Stats.Conns, d.State.Stats.InPackets,
			d.State.Stats.OutPackets, d.State.Stats.InBytes, d.State.Stats.OutBytes)
		if d.State.Stats.Conns != 3 || !strings.Contains(strings.Join(strings.Fields(out), " "), line) {
			t.Errorf("destination stats %q not in ipvsadm output", line)
		}
	}
	if err := c.Zero(context.Background(), &vip); err != nil {
		t.Fatal(err)
	}
	if s, err := c.GetService(context.Background(), vip); err != nil || s.State.Stats.Conns != 0 {
		t.Errorf("after Zero: %+v %v", s.State, err)
	}
}
