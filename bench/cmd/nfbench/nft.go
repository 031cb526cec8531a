package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	gnft "github.com/google/nftables"
	gexpr "github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"sigs.k8s.io/knftables"

	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// The nf_tables workloads use a kube-proxy-like ruleset in table ip
// nfbench: chain "services" holds one rule per service,
// `ip daddr VIP tcp dport 80 jump svc-N`, and chain svc-N holds one rule
// per endpoint, `ip daddr EP tcp dport 8080 accept`. Regular chains only (no
// hooks): nothing is ever evaluated, the cost is the control plane's.
// Addresses are never used on the wire.

const nftTable = "nfbench"

func vip(i int) netip.Addr { return addrAt([4]byte{198, 18, 0, 0}, i) }
func endpoint(i, j, e int) netip.Addr {
	return addrAt([4]byte{10, 0, 0, 0}, i*e+j)
}
func addrAt(base [4]byte, n int) netip.Addr {
	v := binary.BigEndian.Uint32(base[:]) + uint32(n)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

func nftRules(s Size) int { return s.Services * (s.Endpoints + 1) }

// nfkitRule is `ip daddr A tcp dport P <verdict>` as nft writes it.
func nfkitRule(chain string, a netip.Addr, port uint16, v *expr.Verdict) *nft.Rule {
	a4 := a.As4()
	return &nft.Rule{Family: nft.FamilyIPv4, Table: nftTable, Chain: chain, Exprs: []expr.Any{
		&expr.Payload{Base: expr.NetworkHeader, Offset: 16, Len: 4, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: a4[:]},
		&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
		&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{byte(port >> 8), byte(port)}},
		v,
	}}
}

func nfkitRuleset(c *nft.Conn, s Size) *nft.Batch {
	b := c.NewBatch()
	// Like nft -f (without --echo): no handles echoed back.
	b.NoEcho = true
	b.AddTable(&nft.Table{Family: nft.FamilyIPv4, Name: nftTable})
	for i := range s.Services {
		name := fmt.Sprintf("svc-%d", i)
		b.AddChain(&nft.Chain{Family: nft.FamilyIPv4, Table: nftTable, Name: name})
		for j := range s.Endpoints {
			b.AddRule(nfkitRule(name, endpoint(i, j, s.Endpoints), 8080, &expr.Verdict{Kind: expr.VerdictAccept}))
		}
	}
	b.AddChain(&nft.Chain{Family: nft.FamilyIPv4, Table: nftTable, Name: "services"})
	for i := range s.Services {
		b.AddRule(nfkitRule("services", vip(i), 80, &expr.Verdict{Kind: expr.VerdictJump, Chain: fmt.Sprintf("svc-%d", i)}))
	}
	return b
}

func nftRulesetText(s Size) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "table ip %s {\n", nftTable)
	for i := range s.Services {
		fmt.Fprintf(&sb, "\tchain svc-%d {\n", i)
		for j := range s.Endpoints {
			fmt.Fprintf(&sb, "\t\tip daddr %s tcp dport 8080 accept\n", endpoint(i, j, s.Endpoints))
		}
		sb.WriteString("\t}\n")
	}
	sb.WriteString("\tchain services {\n")
	for i := range s.Services {
		fmt.Fprintf(&sb, "\t\tip daddr %s tcp dport 80 jump svc-%d\n", vip(i), i)
	}
	sb.WriteString("\t}\n}\n")
	return sb.String()
}

// gnftConn opens a google/nftables connection with socket buffers big
// enough for a whole ruleset: without them it fails at the default size
// (ENOBUFS on receive, see FACTS.md). It asks an ACK for every message and
// reads them after sending the batch: 64 MiB held the default size, the
// large one (220 000 rules) got ENOBUFS with it, so 512 MiB (a limit, set
// with SO_RCVBUFFORCE as root; the kernel charges only what is queued).
func gnftConn() (*gnft.Conn, error) {
	return gnft.New(gnft.AsLasting(), gnft.WithSockOptions(func(c *netlink.Conn) error {
		if err := c.SetWriteBuffer(512 << 20); err != nil {
			return err
		}
		return c.SetReadBuffer(512 << 20)
	}))
}

func gnftRule(t *gnft.Table, ch *gnft.Chain, a netip.Addr, port uint16, v *gexpr.Verdict) *gnft.Rule {
	a4 := a.As4()
	return &gnft.Rule{Table: t, Chain: ch, Exprs: []gexpr.Any{
		&gexpr.Payload{DestRegister: 1, Base: gexpr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&gexpr.Cmp{Op: gexpr.CmpOpEq, Register: 1, Data: a4[:]},
		&gexpr.Meta{Key: gexpr.MetaKeyL4PROTO, Register: 1},
		&gexpr.Cmp{Op: gexpr.CmpOpEq, Register: 1, Data: []byte{6}},
		&gexpr.Payload{DestRegister: 1, Base: gexpr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&gexpr.Cmp{Op: gexpr.CmpOpEq, Register: 1, Data: []byte{byte(port >> 8), byte(port)}},
		v,
	}}
}

func nftDial(e *Env) (*nft.Conn, error) { return nft.Dial(&nft.Config{NetNS: e.NS.FD()}) }

func nftLoad(e *Env) error {
	c, err := nftDial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	return nfkitRuleset(c, e.Size).Commit(context.Background())
}

func nftCountRules(e *Env) (int, error) {
	c, err := nftDial(e)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return countRules(context.Background(), c, nft.FamilyIPv4, nftTable)
}

// countRules counts a table's rules one chain at a time. The table-wide
// rule dump is quadratic in the kernel: every dump round (one skb of at
// most 32 KiB, a hundred-odd rules) walks the table again from its first
// rule to skip what earlier rounds sent, so at the large size (220 000 and
// 620 000 rules) one check took minutes; a dump filtered by chain looks the
// chain up and walks only its rules.
func countRules(ctx context.Context, c *nft.Conn, fam nft.Family, table string) (int, error) {
	chs, err := c.ListChains(ctx, fam, table)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ch := range chs {
		rs, err := c.ListRules(ctx, nft.RuleFilter{Family: fam, Table: table, Chain: ch.Name, SkipExprs: true})
		if err != nil {
			return 0, fmt.Errorf("chain %s: %w", ch.Name, err)
		}
		n += len(rs)
	}
	return n, nil
}

func checkRules(want func(Size) int) func(e *Env, peer string, smp Sample) error {
	return func(e *Env, peer string, smp Sample) error {
		n, err := nftCountRules(e)
		if err != nil {
			return err
		}
		if n != want(e.Size) {
			return fmt.Errorf("%d rules in the namespace, want %d", n, want(e.Size))
		}
		return nil
	}
}

func knft() (knftables.Interface, error) {
	return knftables.New(knftables.IPv4Family, nftTable)
}

func nftWorkloads() []*Workload {
	elemSet := &nft.Set{Family: nft.FamilyIPv4, Table: nftTable, Name: "eps", KeyType: []nft.DataType{nft.TypeIPv4Addr, nft.TypeInetService}}
	elemKey := func(k int) netip.Addr { return addrAt([4]byte{10, 0, 0, 0}, k) }
	return []*Workload{{
		Name: "nft/load", Unit: "rules", Units: nftRules,
		Desc:  "atomic load of the kube-proxy-like ruleset (services x (endpoints+1) rules) into an empty namespace",
		Check: checkRules(nftRules),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := nft.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					return 0, nfkitRuleset(c, s).Commit(ctx)
				}}, nil
			}},
			{Name: "nft -f", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"nft", "-f", "-"}, nftRulesetText(e.Size), nil
			}},
			{Name: "google/nftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := gnftConn()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					t := c.AddTable(&gnft.Table{Family: gnft.TableFamilyIPv4, Name: nftTable})
					for i := range s.Services {
						ch := c.AddChain(&gnft.Chain{Table: t, Name: fmt.Sprintf("svc-%d", i)})
						for j := range s.Endpoints {
							c.AddRule(gnftRule(t, ch, endpoint(i, j, s.Endpoints), 8080, &gexpr.Verdict{Kind: gexpr.VerdictAccept}))
						}
					}
					svc := c.AddChain(&gnft.Chain{Table: t, Name: "services"})
					for i := range s.Services {
						c.AddRule(gnftRule(t, svc, vip(i), 80, &gexpr.Verdict{Kind: gexpr.VerdictJump, Chain: fmt.Sprintf("svc-%d", i)}))
					}
					return 0, c.Flush()
				}}, nil
			}},
			{Name: "knftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				k, err := knft()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					tx := k.NewTransaction()
					tx.Add(&knftables.Table{})
					for i := range s.Services {
						name := fmt.Sprintf("svc-%d", i)
						tx.Add(&knftables.Chain{Name: name})
						for j := range s.Endpoints {
							tx.Add(&knftables.Rule{Chain: name, Rule: knftables.Concat("ip daddr", endpoint(i, j, s.Endpoints).String(), "tcp dport 8080 accept")})
						}
					}
					tx.Add(&knftables.Chain{Name: "services"})
					for i := range s.Services {
						tx.Add(&knftables.Rule{Chain: "services", Rule: knftables.Concat("ip daddr", vip(i).String(), "tcp dport 80 jump", fmt.Sprintf("svc-%d", i))})
					}
					return 0, k.Run(ctx, tx)
				}}, nil
			}},
		},
	}, {
		Name: "nft/list", Unit: "rules", Units: nftRules,
		Desc:  "list every rule of the loaded ruleset, decoded (CLI: nft -j)",
		Setup: nftLoad,
		Check: func(e *Env, peer string, smp Sample) error {
			if smp.Count != nftRules(e.Size) {
				return fmt.Errorf("%s listed %d rules, want %d", peer, smp.Count, nftRules(e.Size))
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := nft.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					rs, err := c.ListRules(ctx, nft.RuleFilter{Family: nft.FamilyIPv4, Table: nftTable})
					return len(rs), err
				}}, nil
			}},
			{Name: "nft -j list", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"nft", "-j", "list", "table", "ip", nftTable}, "", nil
			}, Count: func(out []byte) int { return strings.Count(string(out), `{"rule":`) }},
			{Name: "google/nftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := gnftConn()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "GetRules per chain (it has no table-wide rule dump)", Op: func(ctx context.Context) (int, error) {
					t := &gnft.Table{Family: gnft.TableFamilyIPv4, Name: nftTable}
					chains, err := c.ListChainsOfTableFamily(gnft.TableFamilyIPv4)
					if err != nil {
						return 0, err
					}
					n := 0
					for _, ch := range chains {
						rs, err := c.GetRules(t, ch)
						if err != nil {
							return n, err
						}
						n += len(rs)
					}
					return n, nil
				}}, nil
			}},
			{Name: "knftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				k, err := knft()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "ListRules(\"\"): nft --json --terse, handles and comments only", Op: func(ctx context.Context) (int, error) {
					rs, err := k.ListRules(ctx, "")
					return len(rs), err
				}}, nil
			}},
		},
	}, {
		Name: "nft/elements", Unit: "elements", Units: func(s Size) int { return s.Entries },
		Desc: "add elements (ipv4_addr . inet_service) to an existing set in one transaction",
		Setup: func(e *Env) error {
			c, err := nftDial(e)
			if err != nil {
				return err
			}
			defer c.Close()
			b := c.NewBatch()
			b.AddTable(&nft.Table{Family: nft.FamilyIPv4, Name: nftTable})
			s := *elemSet
			b.AddSet(&s)
			return b.Commit(context.Background())
		},
		Check: func(e *Env, peer string, smp Sample) error {
			c, err := nftDial(e)
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := c.GetSet(context.Background(), nft.FamilyIPv4, nftTable, "eps")
			if err != nil {
				return err
			}
			els, err := c.ListElements(context.Background(), s)
			if err != nil {
				return err
			}
			if len(els) != e.Size.Entries {
				return fmt.Errorf("%d elements, want %d", len(els), e.Size.Entries)
			}
			return nil
		},
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := nft.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					els := make([]nft.Element, s.Entries)
					for k := range els {
						els[k] = nft.Element{Key: nft.Concat{elemKey(k), uint16(80)}}
					}
					b := c.NewBatch()
					b.NoEcho = true
					set := *elemSet
					b.AddElements(&set, els...)
					return 0, b.Commit(ctx)
				}}, nil
			}},
			{Name: "nft -f", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				var sb strings.Builder
				fmt.Fprintf(&sb, "add element ip %s eps { ", nftTable)
				for k := range e.Size.Entries {
					if k > 0 {
						sb.WriteString(", ")
					}
					fmt.Fprintf(&sb, "%s . 80", elemKey(k))
				}
				sb.WriteString(" }\n")
				return []string{"nft", "-f", "-"}, sb.String(), nil
			}},
			{Name: "google/nftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := gnftConn()
				if err != nil {
					return Prepared{}, err
				}
				set, err := c.GetSetByName(&gnft.Table{Family: gnft.TableFamilyIPv4, Name: nftTable}, "eps")
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Note: "SetAddElements in chunks of 1 000 (one netlink attribute holds at most 64 KiB), one Flush", Op: func(ctx context.Context) (int, error) {
					els := make([]gnft.SetElement, 0, 1000)
					for k := range s.Entries {
						a := elemKey(k).As4()
						// ipv4_addr . inet_service: 4 + 2 bytes, padded to 8.
						key := []byte{a[0], a[1], a[2], a[3], 0, 80, 0, 0}
						els = append(els, gnft.SetElement{Key: key})
						if len(els) == cap(els) || k == s.Entries-1 {
							if err := c.SetAddElements(set, els); err != nil {
								return 0, err
							}
							els = make([]gnft.SetElement, 0, 1000)
						}
					}
					return 0, c.Flush()
				}}, nil
			}},
			{Name: "knftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				k, err := knft()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					tx := k.NewTransaction()
					for n := range s.Entries {
						tx.Add(&knftables.Element{Set: "eps", Key: []string{elemKey(n).String(), "80"}})
					}
					return 0, k.Run(ctx, tx)
				}}, nil
			}},
		},
	}, {
		Name: "nft/one-rule", Unit: "rule", Units: func(Size) int { return 1 },
		Desc:  "add one rule to a chain of the loaded ruleset (one transaction)",
		Setup: nftLoad,
		Check: checkRules(func(s Size) int { return nftRules(s) + 1 }),
		Peers: []Peer{
			{Name: "nfkit", Kind: "nfkit", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := nft.Dial(nil)
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					b := c.NewBatch()
					b.AddRule(nfkitRule("svc-0", oneRuleAddr, 8080, &expr.Verdict{Kind: expr.VerdictAccept}))
					return 0, b.Commit(ctx)
				}}, nil
			}},
			{Name: "nft add rule", Kind: "cli", CLI: func(e *Env) ([]string, string, error) {
				return []string{"nft", "add", "rule", "ip", nftTable, "svc-0", "ip", "daddr", oneRuleAddr.String(), "tcp", "dport", "8080", "accept"}, "", nil
			}},
			{Name: "google/nftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				c, err := gnftConn()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					t := &gnft.Table{Family: gnft.TableFamilyIPv4, Name: nftTable}
					c.AddRule(gnftRule(t, &gnft.Chain{Table: t, Name: "svc-0"}, oneRuleAddr, 8080, &gexpr.Verdict{Kind: gexpr.VerdictAccept}))
					return 0, c.Flush()
				}}, nil
			}},
			{Name: "knftables", Kind: "go", Go: func(ctx context.Context, s Size) (Prepared, error) {
				k, err := knft()
				if err != nil {
					return Prepared{}, err
				}
				return Prepared{Op: func(ctx context.Context) (int, error) {
					tx := k.NewTransaction()
					tx.Add(&knftables.Rule{Chain: "svc-0", Rule: knftables.Concat("ip daddr", oneRuleAddr.String(), "tcp dport 8080 accept")})
					return 0, k.Run(ctx, tx)
				}}, nil
			}},
		},
	}}
}

var oneRuleAddr = netip.MustParseAddr("10.255.255.254")
