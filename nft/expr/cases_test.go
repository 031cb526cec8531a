package expr_test

import (
	"github.com/nfkit/nfkit/nft/expr"
)

func allCases() []kcase {
	var all []kcase
	all = append(all, coreCases()...)
	all = append(all, group2Cases()...)
	all = append(all, group3Cases()...)
	return all
}

func allGoogleCases() []gcase {
	var all []gcase
	all = append(all, googleCoreCases()...)
	all = append(all, googleMoreCases()...)
	return all
}

func coreCases() []kcase {
	accept := &expr.Verdict{Kind: expr.VerdictAccept}
	drop := &expr.Verdict{Kind: expr.VerdictDrop}
	return []kcase{
		{name: "ip-saddr-accept", family: "ip", rule: "ip saddr 10.0.0.1 accept", want: []expr.Any{
			&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{10, 0, 0, 1}},
			accept,
		}},
		{name: "ip-saddr-prefix", family: "ip", rule: "ip saddr 10.0.16.0/20 drop", want: []expr.Any{
			&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
			&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Op: expr.BitwiseMaskXor,
				Mask: []byte{255, 255, 0xf0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{10, 0, 16, 0}},
			drop,
		}},
		{name: "tcp-dport-counter", family: "inet", rule: "tcp dport != 22 counter drop", want: []expr.Any{
			&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
			&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpNeq, Register: expr.Reg1, Data: []byte{0, 22}},
			&expr.Counter{},
			drop,
		}},
		{name: "meta-mark-set", family: "ip", rule: "meta mark set 0x10", want: []expr.Any{
			&expr.Immediate{Register: expr.Reg1, Data: []byte{0x10, 0, 0, 0}},
			&expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1},
		}},
		{name: "jump", family: "ip", rule: "jump x", setup: []string{"add chain ip t x"}, want: []expr.Any{
			&expr.Verdict{Kind: expr.VerdictJump, Chain: "x"},
		}},
		{name: "goto-return", family: "ip", rule: "meta mark 1 goto x", setup: []string{"add chain ip t x"}, want: []expr.Any{
			&expr.Meta{Key: expr.MetaMark, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{1, 0, 0, 0}},
			&expr.Verdict{Kind: expr.VerdictGoto, Chain: "x"},
		}},
		{name: "iifname", family: "inet", rule: `iifname "eth0" return`, want: []expr.Any{
			&expr.Meta{Key: expr.MetaIifname, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte("eth0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
			&expr.Verdict{Kind: expr.VerdictReturn},
		}},
		{name: "mark-shift", family: "ip", rule: "meta mark set meta mark << 8", want: []expr.Any{
			&expr.Meta{Key: expr.MetaMark, DestRegister: expr.Reg1},
			&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Op: expr.BitwiseLShift, Data: []byte{8, 0, 0, 0}},
			&expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1},
		}},
		{name: "payload-set", family: "ip", rule: "ip daddr set 192.0.2.1", want: []expr.Any{
			&expr.Immediate{Register: expr.Reg1, Data: []byte{192, 0, 2, 1}},
			&expr.Payload{Base: expr.NetworkHeader, Offset: 16, Len: 4, SourceRegister: expr.Reg1,
				CsumType: expr.CsumInet, CsumOffset: 10, CsumFlags: expr.CsumFlagPseudoHeader},
		}},
		{name: "ipt-comment-mark", ipt: []string{"-t", "mangle", "-A", "PREROUTING", "-p", "tcp", "--dport", "22",
			"-m", "comment", "--comment", "hi", "-j", "MARK", "--set-mark", "0x7"},
			iptTable: "mangle", iptChain: "PREROUTING", want: []expr.Any{
				&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
				&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{0, 22}},
				&expr.Match{MatchName: "comment", Rev: 0, Info: append([]byte("hi"), make([]byte, 256-2)...)},
				&expr.Counter{},
				&expr.Target{TargetName: "MARK", Rev: 2, Info: []byte{7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
			}},
	}
}
