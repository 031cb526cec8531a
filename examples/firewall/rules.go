package main

import (
	"context"
	"encoding/binary"
	"net/netip"

	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// Policy is what the firewall allows.
type Policy struct {
	Allowed     []netip.Prefix // may open ServicePort
	ServicePort uint16
	LimitedPort uint16 // open to anyone, LimitPerMin new connections a minute (plus the burst)
	LimitPerMin uint64
	LimitBurst  uint32
}

const table = "firewall"

// conntrack state bits as nft's ct state sees them (NF_CT_STATE_*_BIT).
const (
	ctInvalid     = 1
	ctEstablished = 2
	ctRelated     = 4
	ctNew         = 8
)

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) } // host order (amd64, arm64)
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// ctState is `ct state <bits>` (any of them).
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Key: expr.CtState, DestRegister: expr.Reg1},
		&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Op: expr.BitwiseMaskXor, Mask: le32(bits), Xor: le32(0)},
		&expr.Cmp{Op: expr.CmpNeq, Register: expr.Reg1, Data: le32(0)},
	}
}

// tcpDport is `tcp dport <port>`.
func tcpDport(port uint16) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
		&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: be16(port)},
	}
}

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Apply replaces the whole firewall in ONE transaction: the idiom of nft
// files, `add table; delete table; table { ... }`, so the old ruleset stays
// in force until the new one is complete, and a refused ruleset changes
// nothing.
func Apply(ctx context.Context, c *nft.Conn, p Policy) error {
	t := &nft.Table{Family: nft.FamilyINet, Name: table, Comment: "host firewall (nfkit example)"}
	allowed := &nft.Set{Family: nft.FamilyINet, Table: table, Name: "allowed",
		KeyType: []nft.DataType{nft.TypeIPv4Addr}, Flags: nft.SetInterval, AutoMerge: true}
	input := &nft.Chain{Family: nft.FamilyINet, Table: table, Name: "input",
		Type: nft.ChainTypeFilter, Hook: nft.HookInput, Priority: 0, Policy: nft.PolicyDrop}
	rule := func(comment string, exprs ...expr.Any) *nft.Rule {
		return &nft.Rule{Family: nft.FamilyINet, Table: table, Chain: "input", Comment: comment, Exprs: exprs}
	}
	accept := &expr.Verdict{Kind: expr.VerdictAccept}

	b := c.NewBatch()
	b.AddTable(t)
	b.DeleteTable(t)
	b.AddTable(t)
	b.AddSet(allowed)
	var elems []nft.Element
	for _, pfx := range p.Allowed {
		elems = append(elems, nft.Element{Key: pfx.Masked()})
	}
	b.AddElements(allowed, elems...)
	b.AddChain(input)
	b.AddRule(rule("stateful: replies and related traffic", cat(ctState(ctEstablished|ctRelated), []expr.Any{accept})...))
	b.AddRule(rule("invalid packets", cat(ctState(ctInvalid), []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}})...))
	b.AddRule(rule("loopback", &expr.Meta{Key: expr.MetaIifname, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: append([]byte("lo"), make([]byte, 14)...)}, accept))
	b.AddRule(rule("service port from allowed prefixes", cat([]expr.Any{
		&expr.Meta{Key: expr.MetaNfproto, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{2}},
		&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
		&expr.Lookup{Set: allowed.Name, SetID: allowed.ID, SourceRegister: expr.Reg1},
	}, tcpDport(p.ServicePort), []expr.Any{&expr.Counter{}, accept})...))
	b.AddRule(rule("rate-limited port", cat(tcpDport(p.LimitedPort), ctState(ctNew), []expr.Any{
		&expr.Limit{Rate: p.LimitPerMin, Unit: 60, Burst: p.LimitBurst, Type: expr.LimitPackets},
		&expr.Counter{}, accept})...))
	b.AddRule(rule("log and count the rest (policy drop)",
		&expr.Counter{}, &expr.Log{Prefix: "firewall drop: "}))
	return b.Commit(ctx)
}
