package expr_test

import (
	gexpr "github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/nft/expr"
)

// googleMoreCases: the expressions beyond the first group that
// google/nftables v0.3.0 also implements. Values are what nft writes for
// the commented rule, so both sides encode a realistic expression.
func googleMoreCases() []gcase {
	ip := byte(unix.NFPROTO_IPV4)
	return []gcase{
		{"lookup", ip, // ip saddr @s
			&expr.Lookup{Set: "s", SourceRegister: expr.Reg1},
			&gexpr.Lookup{SetName: "s", SourceRegister: 1},
			"google/nftables always sends SET_ID 0 and sends FLAGS only when inverted, after the register; nfkit sends the kernel dump (set, sreg, [dreg], flags)"},
		{"lookup-vmap", ip, // ip saddr vmap @m
			&expr.Lookup{Set: "m", SourceRegister: expr.Reg1, DestRegister: expr.RegVerdict, DestRegisterSet: true},
			&gexpr.Lookup{SetName: "m", SourceRegister: 1, DestRegister: 0, IsDestRegSet: true},
			"google/nftables always sends SET_ID 0 and no FLAGS; nfkit sends the kernel dump (set, sreg, dreg, flags)"},
		{"lookup-invert", ip, // ip saddr != @s
			&expr.Lookup{Set: "s", SourceRegister: expr.Reg1, Invert: true},
			&gexpr.Lookup{SetName: "s", SourceRegister: 1, Invert: true},
			"google/nftables always sends SET_ID 0; nfkit sends the kernel dump (set, sreg, flags)"},
		{"range", ip, // tcp dport 1000-2000
			&expr.Range{Op: expr.CmpEq, Register: expr.Reg1, From: []byte{3, 0xe8}, To: []byte{7, 0xd0}},
			&gexpr.Range{Op: gexpr.CmpOpEq, Register: 1, FromData: []byte{3, 0xe8}, ToData: []byte{7, 0xd0}}, ""},
		{"limit", ip, // limit rate over 10/second burst 5 packets
			&expr.Limit{Rate: 10, Unit: 1, Burst: 5, Type: expr.LimitPackets, Invert: true},
			&gexpr.Limit{Rate: 10, Unit: gexpr.LimitTimeSecond, Burst: 5, Type: gexpr.LimitTypePkts, Over: true}, ""},
		{"limit-bytes", ip, // limit rate 1 mbytes/second
			&expr.Limit{Rate: 1 << 20, Unit: 1, Type: expr.LimitBytes},
			&gexpr.Limit{Rate: 1 << 20, Unit: gexpr.LimitTimeSecond, Type: gexpr.LimitTypePktBytes}, ""},
		{"log-group", ip, // log group 2 snaplen 64
			&expr.Log{NFLog: true, Group: 2, Snaplen: 64},
			&gexpr.Log{Key: 1<<unix.NFTA_LOG_GROUP | 1<<unix.NFTA_LOG_SNAPLEN, Group: 2, Snaplen: 64}, ""},
		{"snat", ip, // snat to 192.0.2.1:1000-2000 persistent
			&expr.NAT{Type: expr.SNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: expr.Reg1, RegProtoMin: expr.Reg2, RegProtoMax: expr.Reg3,
				Flags: unix.NF_NAT_RANGE_PERSISTENT | unix.NF_NAT_RANGE_PROTO_SPECIFIED},
			&gexpr.NAT{Type: gexpr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, RegProtoMax: 3,
				Persistent: true, Specified: true},
			"nfkit sends REG_ADDR_MAX equal to REG_ADDR_MIN for a single address, as nft does and the kernel dumps"},
		{"masq", ip, // masquerade random
			&expr.Masq{Flags: unix.NF_NAT_RANGE_PROTO_RANDOM},
			&gexpr.Masq{Random: true}, ""},
		{"masq-ports", ip, // masquerade to :1024-2048
			&expr.Masq{RegProtoMin: expr.Reg1, RegProtoMax: expr.Reg2},
			&gexpr.Masq{ToPorts: true, RegProtoMin: 1, RegProtoMax: 2}, ""},
		{"redir", ip, // redirect to :8080
			&expr.Redir{RegProtoMin: expr.Reg1},
			&gexpr.Redir{RegisterProtoMin: 1},
			"nfkit sends REG_PROTO_MAX equal to REG_PROTO_MIN for a single port, as nft does and the kernel dumps"},
		{"reject", ip, // reject with tcp reset
			&expr.Reject{Type: expr.RejectType(unix.NFT_REJECT_TCP_RST)},
			&gexpr.Reject{Type: unix.NFT_REJECT_TCP_RST},
			"google/nftables sends ICMP_CODE 0 with tcp reset; the kernel does not dump a code for it and nft does not send one"},
		{"reject-icmp", ip, // reject with icmp host-unreachable
			&expr.Reject{Type: expr.RejectICMPUnreach, Code: 1},
			&gexpr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 1}, ""},
		{"ct-load", ip, // ct state
			&expr.Ct{Key: expr.CtState, DestRegister: expr.Reg1},
			&gexpr.Ct{Key: gexpr.CtKeySTATE, Register: 1},
			"order: the kernel dumps key before dreg"},
		{"ct-set", ip, // ct mark set meta mark
			&expr.Ct{Key: expr.CtMark, SourceRegister: expr.Reg1},
			&gexpr.Ct{Key: gexpr.CtKeyMARK, Register: 1, SourceRegister: true},
			"order: the kernel dumps sreg before key"},
		{"ct-dir", ip, // ct original saddr
			&expr.Ct{Key: expr.CtKey(unix.NFT_CT_SRC_IP), Direction: expr.CtDirOriginal, DestRegister: expr.Reg1},
			&gexpr.Ct{Key: gexpr.CtKey(unix.NFT_CT_SRC_IP), Direction: 0, Register: 1},
			"google/nftables leaves the direction out when it is 0 (original): nft and the kernel send it"},
		{"numgen", ip, // numgen random mod 10 offset 5
			&expr.Numgen{DestRegister: expr.Reg1, Modulus: 10, Type: expr.NumgenRandom, Offset: 5},
			&gexpr.Numgen{Register: 1, Modulus: 10, Type: unix.NFT_NG_RANDOM, Offset: 5}, ""},
		{"objref", ip, // counter name "c"
			&expr.Objref{Type: expr.ObjCounter, Obj: "c"},
			&gexpr.Objref{Type: 1, Name: "c"},
			"google/nftables sends the name without its NUL and after the type; nfkit sends the kernel dump (name with NUL, then type)"},
		{"quota", ip, // quota over 10 mbytes
			&expr.Quota{Bytes: 10 << 20, Invert: true},
			&gexpr.Quota{Bytes: 10 << 20, Over: true}, ""},
		{"fib", ip, // fib daddr type
			&expr.Fib{DestRegister: expr.Reg1, Result: expr.FibResult(unix.NFT_FIB_RESULT_ADDRTYPE), Flags: unix.NFTA_FIB_F_DADDR},
			&gexpr.Fib{Register: 1, ResultADDRTYPE: true, FlagDADDR: true},
			"order: the kernel dumps dreg, result, flags"},
		{"notrack", ip,
			&expr.Notrack{}, &gexpr.Notrack{},
			"google/nftables returns the expression name as data for notrack; the kernel notrack has no NFTA_EXPR_DATA at all"},
		{"hash", ip, // jhash ip saddr mod 4 seed 0xd
			&expr.Hash{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Modulus: 4, Seed: 0xd, SeedSet: true},
			&gexpr.Hash{SourceRegister: 1, DestRegister: 1, Length: 4, Modulus: 4, Seed: 0xd, Type: gexpr.HashTypeJenkins},
			"google/nftables always sends OFFSET 0; nft and the kernel dump leave it out when zero"},
		{"rt", ip, // rt nexthop
			&expr.Rt{Key: unix.NFT_RT_NEXTHOP4, DestRegister: expr.Reg1},
			&gexpr.Rt{Key: gexpr.RtNexthop4, Register: 1},
			""},
		{"exthdr", ip, // tcp option maxseg size
			&expr.Exthdr{DestRegister: expr.Reg1, Type: 2, Offset: 2, Len: 2, Op: 1},
			&gexpr.Exthdr{DestRegister: 1, Type: 2, Offset: 2, Len: 2, Op: gexpr.ExthdrOpTcpopt},
			"order: the kernel dumps op before flags"},
		{"queue", ip, // queue num 2-3 bypass
			&expr.Queue{Num: 2, Total: 2, Flags: 1},
			&gexpr.Queue{Num: 2, Total: 2, Flag: gexpr.QueueFlagBypass}, ""},
		{"connlimit", ip, // ct count over 10
			&expr.Connlimit{Count: 10, Flags: 1},
			&gexpr.Connlimit{Count: 10, Flags: 1}, ""},
		{"socket", ip, // socket transparent
			&expr.Socket{Key: expr.SocketTransparent, DestRegister: expr.Reg1},
			&gexpr.Socket{Key: gexpr.SocketKeyTransparent, Register: 1},
			"google/nftables always sends LEVEL 0 and puts dreg first; the kernel dumps key, dreg and LEVEL only for cgroupv2"},
		{"synproxy", ip, // synproxy mss 1460 wscale 7 timestamp sack-perm
			&expr.Synproxy{MSS: 1460, Wscale: 7, Flags: 0x1 | 0x2 | 0x4 | 0x8},
			&gexpr.SynProxy{Mss: 1460, Wscale: 7, Timestamp: true, SackPerm: true, MssValueSet: true, WscaleValueSet: true}, ""},
		{"tproxy", ip, // tproxy to 192.0.2.1:80
			&expr.Tproxy{Family: unix.NFPROTO_IPV4, RegAddr: expr.Reg1, RegPort: expr.Reg2},
			&gexpr.TProxy{Family: unix.NFPROTO_IPV4, TableFamily: unix.NFPROTO_IPV4, RegAddr: 1, RegPort: 2},
			"order: the kernel dumps family, addr reg, port reg"},
		{"dup", ip, // dup to 192.0.2.1 device "lo"
			&expr.Dup{RegAddr: expr.Reg1, RegDev: expr.Reg2},
			&gexpr.Dup{RegAddr: 1, RegDev: 2, IsRegDevSet: true}, ""},
		{"flow-offload", ip, // flow add @ft
			&expr.FlowOffload{Table: "ft"},
			&gexpr.FlowOffload{Name: "ft"},
			"google/nftables sends the flowtable name without its NUL"},
	}
}
