package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// nftablesProxier writes the layout of kube-proxy's nftables mode in its
// own table, `table ip kube-proxy`:
//
//	map service-ips { ipv4_addr . inet_proto . inet_service : verdict }
//	chain services { ip daddr . meta l4proto . th dport vmap @service-ips }
//	chain service-web { numgen random mod 2 vmap { 0 : goto endpoint-..., 1 : goto endpoint-... } }
//	chain endpoint-... { ip saddr 198.51.100.2 jump mark-for-masquerade; meta l4proto tcp dnat to 198.51.100.2:8080 }
//	chain postrouting { meta mark & 0x4000 != 0 masquerade }
//
// Every Sync is ONE transaction: new endpoint chains, each changed service
// chain flushed and rewritten, the map updated, stale chains deleted.
type nftablesProxier struct {
	c       *nft.Conn
	started bool
	// what the kernel has, from the previous Sync
	services  map[string]Service
	endpoints map[string]bool // endpoint chain names
}

const (
	kpTable  = "kube-proxy"
	masqMark = 0x4000
)

var serviceIPs = &nft.Set{Family: nft.FamilyIPv4, Table: kpTable, Name: "service-ips",
	KeyType:  []nft.DataType{nft.TypeIPv4Addr, nft.TypeInetProto, nft.TypeInetService},
	DataType: nft.TypeVerdict}

func newNFTablesProxier(node *nstest.NS) (proxier, error) {
	c, err := nft.Dial(&nft.Config{NetNS: node.FD()})
	if err != nil {
		return nil, err
	}
	return &nftablesProxier{c: c, services: map[string]Service{}, endpoints: map[string]bool{}}, nil
}

func (p *nftablesProxier) Close() error { return p.c.Close() }

func chain(name string) *nft.Chain {
	return &nft.Chain{Family: nft.FamilyIPv4, Table: kpTable, Name: name}
}

func baseChain(name string, hook nft.Hook, prio int32) *nft.Chain {
	return &nft.Chain{Family: nft.FamilyIPv4, Table: kpTable, Name: name,
		Type: nft.ChainTypeNAT, Hook: hook, Priority: prio, Policy: nft.PolicyAccept}
}

func rule(chain string, exprs ...expr.Any) *nft.Rule {
	return &nft.Rule{Family: nft.FamilyIPv4, Table: kpTable, Chain: chain, Exprs: exprs}
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) } // host order (amd64, arm64)
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func (p *nftablesProxier) base(b *nft.Batch) {
	b.AddTable(&nft.Table{Family: nft.FamilyIPv4, Name: kpTable, Comment: "rules for kube-proxy"})
	b.AddSet(serviceIPs)
	for _, c := range []*nft.Chain{
		baseChain("prerouting", nft.HookPrerouting, -100),
		baseChain("output", nft.HookOutput, -100),
		baseChain("postrouting", nft.HookPostrouting, 100),
		chain("services"), chain("mark-for-masquerade"),
	} {
		b.AddChain(c)
	}
	jump := func(to string) expr.Any { return &expr.Verdict{Kind: expr.VerdictJump, Chain: to} }
	b.AddRule(rule("prerouting", jump("services")))
	b.AddRule(rule("output", jump("services")))
	// ip daddr . meta l4proto . th dport vmap @service-ips: the three
	// fields are laid out in consecutive 32-bit registers.
	b.AddRule(rule("services",
		&expr.Payload{Base: expr.NetworkHeader, Offset: 16, Len: 4, DestRegister: expr.Reg1},
		&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg32(1)},
		&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg32(2)},
		&expr.Lookup{Set: serviceIPs.Name, SetID: serviceIPs.ID, SourceRegister: expr.Reg1,
			DestRegister: expr.RegVerdict, DestRegisterSet: true},
	))
	// meta mark set 0x4000
	b.AddRule(rule("mark-for-masquerade",
		&expr.Immediate{Register: expr.Reg1, Data: le32(masqMark)},
		&expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1},
	))
	// meta mark & 0x4000 != 0 masquerade
	b.AddRule(rule("postrouting",
		&expr.Meta{Key: expr.MetaMark, DestRegister: expr.Reg1},
		&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Op: expr.BitwiseMaskXor,
			Mask: le32(masqMark), Xor: le32(0)},
		&expr.Cmp{Op: expr.CmpNeq, Register: expr.Reg1, Data: le32(0)},
		&expr.Masq{},
	))
}

func serviceChain(s Service) string { return "service-" + s.Name }

func endpointChain(s Service, ep netip.AddrPort) string {
	return fmt.Sprintf("endpoint-%s-%s-%d", s.Name, ep.Addr(), ep.Port())
}

func serviceKey(s Service) nft.Concat { return nft.Concat{s.VIP, uint8(unix.IPPROTO_TCP), s.Port} }

func sameEndpoints(a, b Service) bool {
	if len(a.Endpoints) != len(b.Endpoints) || a.VIP != b.VIP || a.Port != b.Port {
		return false
	}
	for i := range a.Endpoints {
		if a.Endpoints[i] != b.Endpoints[i] {
			return false
		}
	}
	return true
}

func (p *nftablesProxier) Sync(ctx context.Context, services []Service) error {
	b := p.c.NewBatch()
	if !p.started {
		p.base(b)
	}
	wanted := map[string]bool{}
	wantedEP := map[string]bool{}
	for _, s := range services {
		wanted[s.Name] = true
		for _, ep := range s.Endpoints {
			wantedEP[endpointChain(s, ep)] = true
		}
		if old, ok := p.services[s.Name]; ok && sameEndpoints(old, s) {
			continue
		}
		// New endpoint chains.
		for _, ep := range s.Endpoints {
			name := endpointChain(s, ep)
			if p.endpoints[name] {
				continue
			}
			b.AddChain(chain(name))
			b.AddRule(rule(name, // ip saddr EP jump mark-for-masquerade (hairpin)
				&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: ep.Addr().AsSlice()},
				&expr.Verdict{Kind: expr.VerdictJump, Chain: "mark-for-masquerade"}))
			b.AddRule(rule(name, // meta l4proto tcp dnat to EP
				&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{unix.IPPROTO_TCP}},
				&expr.Immediate{Register: expr.Reg1, Data: ep.Addr().AsSlice()},
				&expr.Immediate{Register: expr.Reg2, Data: be16(ep.Port())},
				&expr.NAT{Type: expr.DNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: expr.Reg1, RegProtoMin: expr.Reg2}))
			p.endpoints[name] = true
		}
		// The service chain, rewritten: numgen random mod N vmap { i : goto endpoint-i }.
		svc := chain(serviceChain(s))
		b.AddChain(svc)
		b.FlushChain(svc)
		vmap := &nft.Set{Family: nft.FamilyIPv4, Table: kpTable, Name: "__map%d", Anonymous: true,
			Flags: nft.SetConstant, KeyType: []nft.DataType{nft.TypeInteger}, DataType: nft.TypeVerdict}
		b.AddSet(vmap)
		var elems []nft.Element
		for i, ep := range s.Endpoints {
			elems = append(elems, nft.Element{Key: uint32(i), Value: nft.Goto(endpointChain(s, ep))})
		}
		b.AddElements(vmap, elems...)
		b.AddRule(rule(svc.Name,
			&expr.Numgen{DestRegister: expr.Reg1, Modulus: uint32(len(s.Endpoints)), Type: expr.NumgenRandom},
			&expr.Lookup{Set: vmap.Name, SetID: vmap.ID, SourceRegister: expr.Reg1,
				DestRegister: expr.RegVerdict, DestRegisterSet: true}))
		if _, ok := p.services[s.Name]; !ok {
			b.AddElements(serviceIPs, nft.Element{Key: serviceKey(s), Value: nft.Goto(svc.Name)})
		}
		p.services[s.Name] = s
	}
	for name, s := range p.services {
		if wanted[name] {
			continue
		}
		b.DeleteElements(serviceIPs, nft.Element{Key: serviceKey(s), Value: nft.Goto(serviceChain(s))})
		b.FlushChain(chain(serviceChain(s)))
		b.DeleteChain(chain(serviceChain(s)))
		delete(p.services, name)
	}
	// Stale endpoint chains go last, after the rules that jumped to them.
	for name := range p.endpoints {
		if !wantedEP[name] {
			b.FlushChain(chain(name))
			b.DeleteChain(chain(name))
			delete(p.endpoints, name)
		}
	}
	if err := b.Commit(ctx); err != nil {
		return err
	}
	p.started = true
	return nil
}

func (p *nftablesProxier) Describe(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "(read back by nfkit, laid out like nft list table; expressions as nft --debug=netlink shows them)")
	return netlab.PrintTable(ctx, w, p.c, nft.FamilyIPv4, kpTable)
}
