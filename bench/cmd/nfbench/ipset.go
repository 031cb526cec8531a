package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/ipset"
)

// The ipset workloads use one hash:ip,port set like kube-proxy's
// KUBE-CLUSTER-IP: entries ADDR,tcp:80. The CLI input is written the way
// kube-proxy writes it (tcp:PORT, which ipset resolves by name).

const ipsetName = "nfbench"

func ipsetEntryAddr(k int, replaced bool) netip.Addr {
	base := [4]byte{10, 0, 0, 0}
	if replaced {
		base = [4]byte{10, 128, 0, 0}
	}
	return addrAt(base, k)
}

func ipsetMaxElem(s Size) uint32 { return uint32(max(65536, s.Entries)) }

func nfkitIpset(s Size) ipset.Set {
	return ipset.Set{Name: ipsetName, Type: ipset.HashIPPort, Family: ipset.FamilyInet, MaxElem: ipsetMaxElem(s)}
}

func nfkitIpsetEntries(s Size, replaced bool) []ipset.Entry {
	es := make([]ipset.Entry, s.Entries)
	for k := range es {
		es[k] = ipset.Entry{Addr: ipsetEntryAddr(k, replaced), Proto: unix.IPPROTO_TCP, Port: 80}
	}
	return es
}

func ipsetRestoreText(s Size, set string, replaced bool) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "create %s hash:ip,port family inet hashsize 1024 maxelem %d\n", set, ipsetMaxElem(s))
	for k := range s.Entries {
		fmt.Fprintf(&sb, "add %s %s,tcp:80\n", set, ipsetEntryAddr(k, replaced))
	}
	return sb.String()
}

func ipsetDial(e *Env) (*ipset.Conn, error) { return ipset.Dial(&ipset.Config{NetNS: e.NS.FD()}) }

func ipsetFill(e *Env) error {
	c, err := ipsetDial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	b := ipset.NewBatch()
	b.Create(nfkitIpset(e.Size))
	b.Add(ipsetName, nfkitIpsetEntries(e.Size, false)...)
	return b.Commit(context.Background(), c)
}

// ipsetCheck verifies that the set holds Entries entries, the new ones if
// replaced, and that no other set is left behind.
func ipsetCheck(replaced bool) func(e *Env, peer string, smp Sample) error {
	return func(e *Env, peer string, smp Sample) error {
		c, err := ipsetDial(e)
		if err != nil {
			return err
		}
		defer c.Close()
		ctx := context.Background()
		sets, err := c.ListSets(ctx, ipset.ListOptions{})
		if err != nil {
			return err
		}
		if len(sets) != 1 || sets[0].Name != ipsetName || int(sets[0].Entries) != e.Size.Entries {
			return fmt.Errorf("sets after the run: %+v, want only %s with %d entries", sets, ipsetName, e.Size.Entries)
		}
		last := e.Size.Entries - 1
		for _, probe := range []struct {
			replaced, want bool
		}{{replaced, true}, {!replaced, false}} {
			ok, err := c.Test(ctx, ipsetName, ipset.Entry{Addr: ipsetEntryAddr(last, probe.replaced), Proto: unix.IPPROTO_TCP, Port: 80})
			if err != nil {
				return err
			}
			if ok != probe.want {
				return fmt.Errorf("entry %s in set: %v, want %v", ipsetEntryAddr(last, probe.replaced), ok, probe.want)
			}
		}
		return nil
	}
}

func vnlIpset() (*netlink.Handle, error) { return netlink.NewHandle(unix.NETLINK_NETFILTER) }

func vnlEntry(a netip.Addr) *netlink.IPSetEntry {
	proto, port := uint8(unix.IPPROTO_TCP), uint16(80)
	return &netlink.IPSetEntry{IP: a.AsSlice(), Protocol: &proto, Port: &port}
}

const vnlIpsetNote = "one netlink message per entry on a kept socket (NewHandle)"

func ipsetWorkloads() []*Workload {
	entries := func(s Size) int { return s.Entries }
	return []*Workload{{
		Name: "ipset/add", Unit: "entries", Units: entries,
		Desc:  "create a hash:ip,port set and add the entries",
		Check: ipsetCheck(false),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := ipset.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					b := ipset.NewBatch()
					b.Create(nfkitIpset(s))
					b.Add(ipsetName, nfkitIpsetEntries(s, false)...)
					return 0, b.Commit(ctx, c)
				}}, nil
			}},
			{Name: "ipset restore", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"ipset", "restore"}, ipsetRestoreText(e.Size, ipsetName, false), nil
			}},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := vnlIpset()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: vnlIpsetNote, Op: func(ctx context.Context) (int, error) {
					if err := h.IpsetCreate(ipsetName, "hash:ip,port", netlink.IpsetCreateOptions{MaxElements: ipsetMaxElem(s)}); err != nil {
						return 0, err
					}
					for k := range s.Entries {
						if err := h.IpsetAdd(ipsetName, vnlEntry(ipsetEntryAddr(k, false))); err != nil {
							return k, err
						}
					}
					return 0, nil
				}}, nil
			}},
		},
	}, {
		Name: "ipset/list", Unit: "entries", Units: entries,
		Desc:  "list the set with all its entries",
		Setup: ipsetFill,
		Check: func(e *Env, peer string, smp Sample) error {
			if smp.Count != e.Size.Entries {
				return fmt.Errorf("%s listed %d entries, want %d", peer, smp.Count, e.Size.Entries)
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := ipset.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					sets, err := c.List(ctx, ipsetName)
					if err != nil || len(sets) != 1 {
						return 0, fmt.Errorf("%d sets: %v", len(sets), err)
					}
					return len(sets[0].Entries), nil
				}}, nil
			}},
			{Name: "ipset save", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"ipset", "save", ipsetName}, "", nil
			}, Count: func(out []byte) int { return strings.Count(string(out), "\nadd ") }},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := vnlIpset()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					r, err := h.IpsetList(ipsetName)
					if err != nil {
						return 0, err
					}
					return len(r.Entries), nil
				}}, nil
			}},
		},
	}, {
		Name: "ipset/replace", Unit: "entries", Units: entries,
		Desc:  "replace the contents of a full set atomically (create temporary, fill, swap, destroy)",
		Setup: ipsetFill,
		Check: ipsetCheck(true),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := ipset.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					return 0, c.ReplaceSet(ctx, nfkitIpset(s), nfkitIpsetEntries(s, true))
				}}, nil
			}},
			{Name: "ipset restore", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				text := ipsetRestoreText(e.Size, "nfbench-tmp", true) +
					"swap nfbench-tmp " + ipsetName + "\ndestroy nfbench-tmp\n"
				return []string{"ipset", "restore"}, text, nil
			}},
			{Name: "vishvananda/netlink", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				h, err := vnlIpset()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: vnlIpsetNote, Op: func(ctx context.Context) (int, error) {
					const tmp = "nfbench-tmp"
					if err := h.IpsetCreate(tmp, "hash:ip,port", netlink.IpsetCreateOptions{MaxElements: ipsetMaxElem(s)}); err != nil {
						return 0, err
					}
					for k := range s.Entries {
						if err := h.IpsetAdd(tmp, vnlEntry(ipsetEntryAddr(k, true))); err != nil {
							return k, err
						}
					}
					if err := h.IpsetSwap(tmp, ipsetName); err != nil {
						return 0, err
					}
					return 0, h.IpsetDestroy(tmp)
				}}, nil
			}},
		},
	}}
}
