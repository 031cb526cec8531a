package expr_test

import (
	"github.com/nfkit/nfkit/nft/expr"
)

func group3Cases() []kcase {
	markSet := &expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1}
	return []kcase{
		{name: "jhash", family: "ip", rule: "meta mark set jhash ip saddr mod 4 seed 0x1 offset 2", want: nil},
		{name: "symhash", family: "ip", rule: "meta mark set symhash mod 2", want: []expr.Any{
			&expr.Hash{DestRegister: expr.Reg1, Modulus: 2, Type: expr.HashSym},
			markSet,
		}},
		{name: "rt-mtu", family: "ip", rule: "tcp flags syn tcp option maxseg size set rt mtu", setup: []string{"add chain ip t c { type filter hook forward priority 0; }"}, want: nil},
		{name: "exthdr-ipv6", family: "ip6", rule: "exthdr frag exists drop", want: nil},
		{name: "exthdr-tcpopt", family: "inet", rule: "tcp option maxseg size 1400", want: nil},
		{name: "exthdr-ipopt", family: "ip", rule: "ip option rr exists", want: nil},
		{name: "exthdr-sctp", family: "inet", rule: "sctp chunk init exists", want: nil},
		{name: "connlimit", family: "ip", rule: "ct count over 10", want: []expr.Any{&expr.Connlimit{Count: 10, Flags: 1}}},
		{name: "socket", family: "ip", rule: "socket transparent 1 accept", setup: []string{"add chain ip t c { type filter hook prerouting priority -150; }"}, want: nil},
		{name: "synproxy", family: "ip", rule: "tcp dport 80 synproxy mss 1460 wscale 7 timestamp sack-perm", want: nil},
		{name: "tproxy", family: "ip", rule: "meta l4proto tcp tproxy to 127.0.0.1:8080", setup: []string{"add chain ip t c { type filter hook prerouting priority -150; }"}, want: nil},
		{name: "xfrm", family: "ip", rule: "ipsec in reqid 1", setup: []string{"add chain ip t c { type filter hook prerouting priority 0; }"}, want: nil},
		{name: "dup", family: "ip", rule: `dup to 192.0.2.1 device "lo"`, setup: []string{"add chain ip t c { type filter hook prerouting priority 0; }"}, want: nil},
		{name: "osf-name", family: "inet", rule: `osf name "Linux" accept`, setup: []string{"add chain inet t c { type filter hook prerouting priority 0; }"}, want: []expr.Any{
			&expr.Osf{DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte("Linux\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
			&expr.Verdict{Kind: expr.VerdictAccept},
		}},
		{name: "osf-ttl-version", family: "ip", rule: `osf ttl skip version "Linux:4.1"`, setup: []string{"add chain ip t c { type filter hook input priority 0; }"}, want: []expr.Any{
			&expr.Osf{DestRegister: expr.Reg1, TTL: expr.OsfTTLNoCheck, Flags: expr.OsfVersion},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte("Linux:4.1\x00\x00\x00\x00\x00\x00\x00")},
		}},
		{name: "fwd", family: "netdev", rule: `fwd to "lo"`, setup: []string{`add chain netdev t c { type filter hook ingress device "lo" priority 0; }`}, want: nil},
	}
}
