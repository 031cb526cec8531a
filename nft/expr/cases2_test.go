package expr_test

import (
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/nft/expr"
)

func group2Cases() []kcase {
	ld := func(base expr.PayloadBase, off, n uint32) *expr.Payload {
		return &expr.Payload{Base: base, Offset: off, Len: n, DestRegister: expr.Reg1}
	}
	cmp := func(b ...byte) *expr.Cmp { return &expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: b} }
	l4 := &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}
	return []kcase{
		{name: "lookup-set", family: "ip", rule: "ip saddr @s drop", setup: []string{"add set ip t s { type ipv4_addr; }"}, want: []expr.Any{
			ld(expr.NetworkHeader, 12, 4),
			&expr.Lookup{Set: "s", SourceRegister: expr.Reg1},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}},
		{name: "lookup-invert", family: "ip", rule: "ip saddr != @s drop", setup: []string{"add set ip t s { type ipv4_addr; }"}, want: []expr.Any{
			ld(expr.NetworkHeader, 12, 4),
			&expr.Lookup{Set: "s", SourceRegister: expr.Reg1, Invert: true},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}},
		{name: "lookup-vmap", family: "ip", rule: "ip saddr vmap @m", setup: []string{"add map ip t m { type ipv4_addr : verdict; }"}, want: []expr.Any{
			ld(expr.NetworkHeader, 12, 4),
			&expr.Lookup{Set: "m", SourceRegister: expr.Reg1, DestRegister: expr.RegVerdict, DestRegisterSet: true},
		}},
		{name: "range", family: "inet", rule: "tcp dport != 1000-2000 accept", want: []expr.Any{
			l4, cmp(6), ld(expr.TransportHeader, 2, 2),
			&expr.Range{Op: expr.CmpNeq, Register: expr.Reg1, From: []byte{0x03, 0xe8}, To: []byte{0x07, 0xd0}},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}},
		{name: "limit-packets", family: "ip", rule: "limit rate 10/second burst 5 packets", want: []expr.Any{
			&expr.Limit{Rate: 10, Unit: 1, Burst: 5, Type: expr.LimitPackets},
		}},
		{name: "limit-bytes-over", family: "ip", rule: "limit rate over 1 mbytes/minute", want: []expr.Any{
			&expr.Limit{Rate: 1 << 20, Unit: 60, Burst: 0, Type: expr.LimitBytes, Invert: true},
		}},
		{name: "log-syslog", family: "ip", rule: `log prefix "in: " level info flags all`, want: []expr.Any{
			&expr.Log{Prefix: "in: ", Level: expr.LogLevelInfo, Flags: expr.LogFlagAll},
		}},
		{name: "log-default", family: "ip", rule: `log`, want: []expr.Any{
			&expr.Log{Level: expr.LogLevelWarning},
		}},
		{name: "log-nflog", family: "ip", rule: `log prefix "x" group 2 snaplen 64 queue-threshold 4`, want: []expr.Any{
			&expr.Log{Prefix: "x", NFLog: true, Group: 2, Snaplen: 64, QThreshold: 4},
		}},
		{name: "snat-range", family: "ip", rule: "ip protocol tcp snat to 192.0.2.1-192.0.2.9:1000-2000 persistent,fully-random",
			setup: []string{"add chain ip t c { type nat hook postrouting priority 100; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 9, 1), cmp(6),
				&expr.Immediate{Register: expr.Reg1, Data: []byte{192, 0, 2, 1}},
				&expr.Immediate{Register: expr.Reg2, Data: []byte{192, 0, 2, 9}},
				&expr.Immediate{Register: expr.Reg3, Data: []byte{0x03, 0xe8}},
				&expr.Immediate{Register: expr.Reg4, Data: []byte{0x07, 0xd0}},
				&expr.NAT{Type: expr.SNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: expr.Reg1, RegAddrMax: expr.Reg2,
					RegProtoMin: expr.Reg3, RegProtoMax: expr.Reg4,
					Flags: expr.NATMapIPs | expr.NATProtoSpecified | expr.NATPersistent | expr.NATFullyRandom},
			}},
		{name: "dnat-netmap", family: "ip", rule: "dnat ip prefix to ip daddr map { 192.0.2.0/24 : 198.51.100.0/24 }",
			setup: []string{"add chain ip t c { type nat hook prerouting priority -100; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 16, 4),
				&expr.Lookup{Set: "__map0", SourceRegister: expr.Reg1, DestRegister: expr.Reg1, DestRegisterSet: true},
				&expr.NAT{Type: expr.DNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: expr.Reg1, RegAddrMax: expr.Reg32(1),
					Flags: expr.NATMapIPs | expr.NATNetmap},
			}},
		{name: "masq", family: "ip", rule: "meta l4proto tcp masquerade to :1024-2048 random",
			setup: []string{"add chain ip t c { type nat hook postrouting priority 100; }"}, want: []expr.Any{
				l4, cmp(6),
				&expr.Immediate{Register: expr.Reg1, Data: []byte{0x04, 0x00}},
				&expr.Immediate{Register: expr.Reg2, Data: []byte{0x08, 0x00}},
				&expr.Masq{Flags: expr.NATRandom | expr.NATProtoSpecified, RegProtoMin: expr.Reg1, RegProtoMax: expr.Reg2},
			}},
		{name: "masq-plain", family: "ip", rule: "masquerade",
			setup: []string{"add chain ip t c { type nat hook postrouting priority 100; }"}, want: []expr.Any{&expr.Masq{}}},
		{name: "redir", family: "ip", rule: "tcp dport 80 redirect to :8080",
			setup: []string{"add chain ip t c { type nat hook prerouting priority -100; }"}, want: []expr.Any{
				l4, cmp(6), ld(expr.TransportHeader, 2, 2), cmp(0, 80),
				&expr.Immediate{Register: expr.Reg1, Data: []byte{0x1f, 0x90}},
				&expr.Redir{RegProtoMin: expr.Reg1, RegProtoMax: expr.Reg1, Flags: expr.NATProtoSpecified},
			}},
		{name: "reject-icmp", family: "ip", rule: "reject with icmp type host-unreachable", want: []expr.Any{
			&expr.Reject{Type: expr.RejectICMPUnreach, Code: 1},
		}},
		{name: "reject-tcp", family: "inet", rule: "meta l4proto tcp reject with tcp reset", want: []expr.Any{
			l4, cmp(6), &expr.Reject{Type: expr.RejectTCPReset},
		}},
		{name: "reject-icmpx", family: "inet", rule: "reject with icmpx type admin-prohibited", want: []expr.Any{
			&expr.Reject{Type: expr.RejectICMPXUnreach, Code: expr.ICMPXAdminProhibited},
		}},
		{name: "ct-state", family: "ip", rule: "ct state established,related accept", want: []expr.Any{
			&expr.Ct{Key: expr.CtState, DestRegister: expr.Reg1},
			&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpNeq, Register: expr.Reg1, Data: []byte{0, 0, 0, 0}},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}},
		{name: "ct-original-saddr", family: "ip", rule: "ct original ip saddr 192.0.2.1", want: []expr.Any{
			&expr.Ct{Key: expr.CtSrcIP, Direction: expr.CtDirOriginal, DestRegister: expr.Reg1},
			cmp(192, 0, 2, 1),
		}},
		{name: "ct-mark-set", family: "ip", rule: "ct mark set 0x2a", want: []expr.Any{
			&expr.Immediate{Register: expr.Reg1, Data: []byte{0x2a, 0, 0, 0}},
			&expr.Ct{Key: expr.CtMark, SourceRegister: expr.Reg1},
		}},
		{name: "ct-zone-set", family: "ip", rule: "ct original zone set 3", setup: []string{"add chain ip t c { type filter hook prerouting priority -300; }"}, want: []expr.Any{
			&expr.Immediate{Register: expr.Reg1, Data: []byte{3, 0}},
			&expr.Ct{Key: expr.CtZone, Direction: expr.CtDirOriginal, SourceRegister: expr.Reg1},
		}},
		{name: "ct-label", family: "ip", rule: "ct label set 5", want: []expr.Any{
			&expr.Immediate{Register: expr.Reg1, Data: []byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
			&expr.Ct{Key: expr.CtLabels, SourceRegister: expr.Reg1},
		}},
		{name: "numgen", family: "ip", rule: "meta mark set numgen random mod 10 offset 5", want: []expr.Any{
			&expr.Numgen{DestRegister: expr.Reg1, Modulus: 10, Type: expr.NumgenRandom, Offset: 5},
			&expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1},
		}},
		{name: "dynset-limit", family: "ip", rule: "add @s { ip saddr limit rate over 10/second }",
			setup: []string{"add set ip t s { type ipv4_addr; flags dynamic; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 12, 4),
				&expr.Dynset{SourceRegister: expr.Reg1, Op: expr.DynsetAdd, Set: "s",
					Exprs: []expr.Any{&expr.Limit{Rate: 10, Unit: 1, Burst: 5, Type: expr.LimitPackets, Invert: true}}},
			}},
		{name: "dynset-timeout", family: "ip", rule: "update @s { ip saddr timeout 1m }",
			setup: []string{"add set ip t s { type ipv4_addr; flags dynamic,timeout; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 12, 4),
				&expr.Dynset{SourceRegister: expr.Reg1, Op: expr.DynsetUpdate, Set: "s", TimeoutMS: 60000},
			}},
		{name: "dynset-two-exprs", family: "ip", rule: "add @s { ip saddr counter limit rate 1/second }",
			setup: []string{"add set ip t s { type ipv4_addr; flags dynamic; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 12, 4),
				&expr.Dynset{SourceRegister: expr.Reg1, Op: expr.DynsetAdd, Set: "s",
					Exprs: []expr.Any{&expr.Counter{}, &expr.Limit{Rate: 1, Unit: 1, Burst: 5, Type: expr.LimitPackets}}},
			}},
		{name: "objref", family: "ip", rule: `counter name "cnt"`, setup: []string{"add counter ip t cnt"}, want: []expr.Any{
			&expr.Objref{Type: expr.ObjCounter, Obj: "cnt"},
		}},
		{name: "objref-map", family: "ip", rule: `counter name ip saddr map @m`,
			setup: []string{"add counter ip t cnt", "add map ip t m { type ipv4_addr : counter; }"}, want: []expr.Any{
				ld(expr.NetworkHeader, 12, 4),
				&expr.Objref{Set: "m", SourceRegister: expr.Reg1},
			}},
		{name: "quota", family: "ip", rule: "quota over 10 mbytes used 1 mbytes", want: []expr.Any{
			&expr.Quota{Bytes: 10 << 20, Consumed: 1 << 20, Invert: true},
		}},
		{name: "fib", family: "ip", rule: "fib saddr . iif oif missing drop",
			setup: []string{"add chain ip t c { type filter hook prerouting priority 0; }"}, want: []expr.Any{
				&expr.Fib{DestRegister: expr.Reg1, Result: expr.FibResultOif, Flags: expr.FibFlagSaddr | expr.FibFlagIif | expr.FibFlagPresent},
				cmp(0, 0, 0, 0),
				&expr.Verdict{Kind: expr.VerdictDrop},
			}},
		{name: "fib-type", family: "inet", rule: "fib daddr type local accept", want: []expr.Any{
			&expr.Fib{DestRegister: expr.Reg1, Result: expr.FibResultAddrtype, Flags: expr.FibFlagDaddr},
			cmp(2, 0, 0, 0),
			&expr.Verdict{Kind: expr.VerdictAccept},
		}},
		{name: "notrack", family: "ip", rule: "notrack", setup: []string{"add chain ip t c { type filter hook prerouting priority -300; }"}, want: []expr.Any{
			&expr.Notrack{},
		}},
	}
}
