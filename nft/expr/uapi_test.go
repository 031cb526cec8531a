package expr_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft"
	"github.com/nfkit/nfkit/nft/expr"
)

// Expressions nft 1.0.6 cannot write (tunnel, inner): the expected bytes
// are built here from the uapi layout (enum nft_tunnel_attributes, enum
// nft_inner_attributes, in the order nft_tunnel_get_dump and
// nft_inner_dump put them), Encode must produce them, and the kernel
// must accept the rule when nfkit sends it and dump exactly these bytes
// back.

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// exprElem is one NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA } as the
// kernel dumps it (no NLA_F_NESTED).
func exprElem(name string, data ...[]byte) []byte {
	return nla(unix.NFTA_LIST_ELEM, cat(nla(unix.NFTA_EXPR_NAME, append([]byte(name), 0)...),
		nla(unix.NFTA_EXPR_DATA, cat(data...)...))...)
}

type uapiCase struct {
	name, family, chain string // chain: nft's base chain spec for table t chain c
	exprs               []expr.Any
	want                []byte
}

func uapiCases() []uapiCase {
	cmpElem := func(v []byte) []byte {
		return exprElem("cmp", nla(unix.NFTA_CMP_SREG, be32(1)...), nla(unix.NFTA_CMP_OP, be32(unix.NFT_CMP_EQ)...),
			nla(unix.NFTA_CMP_DATA, nla(unix.NFTA_DATA_VALUE, v...)...))
	}
	ingress := `{ type filter hook ingress device "lo" priority 0; }`
	return []uapiCase{
		{"tunnel-path", "netdev", ingress,
			[]expr.Any{&expr.Tunnel{Key: expr.TunnelPath, DestRegister: expr.Reg1},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{1}}},
			cat(exprElem("tunnel", nla(1, be32(0 /* NFT_TUNNEL_PATH */)...), nla(2, be32(1)...), nla(3, be32(0)...)), cmpElem([]byte{1}))},
		{"tunnel-id-rx", "netdev", ingress,
			[]expr.Any{&expr.Tunnel{Key: expr.TunnelID, DestRegister: expr.Reg1, Mode: expr.TunnelModeRx},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{42, 0, 0, 0}}},
			cat(exprElem("tunnel", nla(1, be32(1 /* NFT_TUNNEL_ID */)...), nla(2, be32(1)...), nla(3, be32(1)...)), cmpElem([]byte{42, 0, 0, 0}))},
		// vxlan ip saddr 192.0.2.1: the inner packet's network header.
		{"inner-vxlan-payload", "inet", `{ type filter hook prerouting priority 0; }`,
			[]expr.Any{&expr.Inner{Type: expr.InnerVXLAN, Flags: expr.InnerHdrSize | expr.InnerLL | expr.InnerNH, HdrSize: 8,
				Expr: &expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1}},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{192, 0, 2, 1}}},
			cat(exprElem("inner", nla(1, be32(0)...), nla(2, be32(1)...), nla(3, be32(7)...), nla(4, be32(8)...),
				nla(5, cat(nla(unix.NFTA_EXPR_NAME, []byte("payload\x00")...), nla(unix.NFTA_EXPR_DATA,
					cat(nla(unix.NFTA_PAYLOAD_DREG, be32(1)...), nla(unix.NFTA_PAYLOAD_BASE, be32(1)...),
						nla(unix.NFTA_PAYLOAD_OFFSET, be32(12)...), nla(unix.NFTA_PAYLOAD_LEN, be32(4)...))...))...)),
				cmpElem([]byte{192, 0, 2, 1}))},
		// geneve meta l4proto tcp
		{"inner-geneve-meta", "inet", `{ type filter hook prerouting priority 0; }`,
			[]expr.Any{&expr.Inner{Type: expr.InnerGeneve, Flags: expr.InnerNH | expr.InnerTH,
				Expr: &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}},
				&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{unix.IPPROTO_TCP}}},
			cat(exprElem("inner", nla(1, be32(0)...), nla(2, be32(2)...), nla(3, be32(12)...), nla(4, be32(0)...),
				nla(5, cat(nla(unix.NFTA_EXPR_NAME, []byte("meta\x00")...), nla(unix.NFTA_EXPR_DATA,
					cat(nla(unix.NFTA_META_KEY, be32(unix.NFT_META_L4PROTO)...), nla(unix.NFTA_META_DREG, be32(1)...))...))...)),
				cmpElem([]byte{unix.IPPROTO_TCP}))},
	}
}

// TestUapiBytes checks encoding and decoding against the uapi-built bytes
// without a kernel.
func TestUapiBytes(t *testing.T) {
	for _, c := range uapiCases() {
		t.Run(c.name, func(t *testing.T) {
			enc, err := expr.Encode(c.exprs)
			require.NoError(t, err)
			require.True(t, expr.SameAttrs(enc, c.want), "ours:\n%s\nuapi:\n%s", hex.Dump(enc), hex.Dump(c.want))
			got, err := expr.Decode(c.want)
			require.NoError(t, err)
			require.Equal(t, c.exprs, got)
		})
	}
}

// TestUapiKernelRoundTrip: nfkit writes each rule (the chain comes from
// nft), the kernel accepts it and dumps exactly the uapi-built bytes,
// which nfkit lists typed.
func TestUapiKernelRoundTrip(t *testing.T) {
	nstest.RequireTool(t, "nft")
	ns := nstest.New(t)
	c, err := nft.Dial(&nft.Config{NetNS: ns.FD()})
	require.NoError(t, err)
	defer c.Close()
	fams := map[string]nft.Family{"netdev": nft.FamilyNetdev, "inet": nft.FamilyINet}
	for _, tc := range uapiCases() {
		t.Run(tc.name, func(t *testing.T) {
			ns.Exec("nft", "flush", "ruleset")
			ns.Run(t, "nft", "add table "+tc.family+" t; add chain "+tc.family+" t c "+tc.chain)
			b := c.NewBatch()
			b.AddRule(&nft.Rule{Family: fams[tc.family], Table: "t", Chain: "c", Exprs: tc.exprs})
			require.NoError(t, b.Commit(context.Background()))
			rules := dumpRules(t, ns, familyNum(tc.family), "t", "c")
			require.Len(t, rules, 1)
			require.Equal(t, hex.Dump(tc.want), hex.Dump(rules[0]))
			listed, err := c.ListRules(context.Background(), nft.RuleFilter{Family: fams[tc.family], Table: "t", Chain: "c"})
			require.NoError(t, err)
			require.Len(t, listed, 1)
			require.Equal(t, tc.exprs, listed[0].Exprs)
		})
	}
}
