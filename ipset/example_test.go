package ipset_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/ipset"
)

// inNamespace runs fn with a Conn inside a throwaway network namespace,
// so the examples never touch the host.
func inNamespace(fn func(ctx context.Context, c *ipset.Conn) error) {
	ns, err := nstest.Create("nfkit-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.Close()
	c, err := ipset.Dial(&ipset.Config{NetNS: ns.FD()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := fn(context.Background(), c); err != nil {
		fmt.Println("error:", err)
	}
}

func ExampleConn_Add() {
	inNamespace(func(ctx context.Context, c *ipset.Conn) error {
		err := c.Create(ctx, ipset.Set{Name: "web", Type: ipset.HashIPPort, InitVal: 1, HashSize: 64, Comment: true})
		if err != nil {
			return err
		}
		err = c.Add(ctx, "web", ipset.Entry{
			Addr: netip.MustParseAddr("192.0.2.10"), Proto: ipset.ProtoTCP, Port: 443, Comment: "frontend",
		})
		if err != nil {
			return err
		}
		// Adding it again: the kernel refuses, errors.Is tells why.
		err = c.Add(ctx, "web", ipset.Entry{Addr: netip.MustParseAddr("192.0.2.10"), Proto: ipset.ProtoTCP, Port: 443})
		fmt.Println("exists:", errors.Is(err, ipset.ErrEntryExists))
		return c.Save(ctx, os.Stdout, "web")
	})
	// Output:
	// exists: true
	// create web hash:ip,port family inet hashsize 64 maxelem 65536 comment bucketsize 12 initval 0x00000001
	// add web 192.0.2.10,tcp:443 comment "frontend"
}

func ExampleConn_ReplaceSet() {
	inNamespace(func(ctx context.Context, c *ipset.Conn) error {
		s := ipset.Set{Name: "blocked", Type: ipset.HashNet, InitVal: 2}
		// The first call creates the set, later calls swap new contents in
		// atomically.
		for _, nets := range [][]string{{"198.51.100.0/24"}, {"203.0.113.0/24"}} {
			var entries []ipset.Entry
			for _, n := range nets {
				entries = append(entries, ipset.Entry{Prefix: netip.MustParsePrefix(n)})
			}
			if err := c.ReplaceSet(ctx, s, entries); err != nil {
				return err
			}
		}
		for e, err := range c.Entries(ctx, "blocked") {
			if err != nil {
				return err
			}
			fmt.Println(e)
		}
		return nil
	})
	// Output:
	// 203.0.113.0/24
}

func ExampleBatch() {
	inNamespace(func(ctx context.Context, c *ipset.Conn) error {
		b := ipset.NewBatch()
		b.Create(ipset.Set{Name: "ports", Type: ipset.BitmapPort, PortFrom: 1, PortTo: 1024})
		b.Add("ports", ipset.Entry{Port: 22}, ipset.Entry{Port: 80}, ipset.Entry{Port: 80}, ipset.Entry{Port: 443})
		err := b.Commit(ctx, c)
		var be *ipset.BatchError
		if errors.As(err, &be) {
			add := be.Ops[1]
			fmt.Printf("%d of %d applied; entry %d failed: %v\n",
				add.AppliedCount(), add.Entries, add.Failed[0].Index, errors.Is(err, ipset.ErrEntryExists))
		}
		return c.Save(ctx, os.Stdout, "ports")
	})
	// Output:
	// 2 of 4 applied; entry 2 failed: true
	// create ports bitmap:port range 1-1024
	// add ports 22
	// add ports 80
}

func ExampleParseSave() {
	sets, err := ipset.ParseSave(strings.NewReader(`create a hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 30
add a 192.0.2.1,udp:53 timeout 10
add a 192.0.2.2,icmp:echo-request timeout 0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range sets[0].Entries {
		fmt.Printf("%s proto=%d port=%#04x timeout=%v\n", e.Addr, e.Proto, e.Port, e.Timeout)
	}
	_ = ipset.WriteSave(os.Stdout, sets)
	// Output:
	// 192.0.2.1 proto=17 port=0x0035 timeout=10s
	// 192.0.2.2 proto=1 port=0x0800 timeout=0s
	// create a hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 30
	// add a 192.0.2.1,udp:53 timeout 10
	// add a 192.0.2.2,icmp:echo-request timeout 0
}
