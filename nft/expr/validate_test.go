package expr_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/nft/expr"
)

// invalidCases: each must be refused by Encode with ErrInvalid, and the
// message must name the offending value.
func invalidCases() []struct {
	e    expr.Any
	want string
} {
	return []struct {
		e    expr.Any
		want string
	}{
		{&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: 99}, "99"},
		{&expr.Payload{Base: 9, Offset: 12, Len: 4, DestRegister: expr.Reg1}, "base 9"},
		{&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 0, DestRegister: expr.Reg1}, "len 0"},
		{&expr.Payload{Base: expr.NetworkHeader, Offset: 0, Len: 20, DestRegister: expr.Reg4}, "20 bytes"},
		{&expr.Payload{Base: expr.NetworkHeader, Offset: 0, Len: 4, DestRegister: expr.RegVerdict}, "verdict register"},
		{&expr.Cmp{Op: 9, Register: expr.Reg1, Data: []byte{1}}, "op 9"},
		{&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: nil}, "0 bytes"},
		{&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: make([]byte, 65)}, "65 bytes"},
		{&expr.Meta{Key: 200, DestRegister: expr.Reg1}, "key 200"},
		{&expr.Meta{Key: expr.MetaIifname, DestRegister: expr.Reg32(15)}, "16 bytes"},
		{&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Mask: []byte{1}, Xor: []byte{0, 0, 0, 0}}, "mask of 1"},
		{&expr.Bitwise{SourceRegister: expr.Reg1, DestRegister: expr.Reg1, Len: 4, Op: 7}, "op 7"},
		{&expr.Immediate{Register: expr.Reg1}, "0 bytes"},
		{&expr.Verdict{Kind: expr.VerdictJump}, `chain ""`},
		{&expr.Verdict{Kind: expr.VerdictAccept, Chain: "x"}, `chain "x"`},
		{&expr.Match{MatchName: strings.Repeat("m", 40)}, "mmmm"},
		{&expr.Target{}, `name ""`},
		{&expr.Raw{}, `name ""`},
		{&expr.Osf{DestRegister: expr.Reg1, TTL: 3}, "ttl 3"},
		{&expr.Osf{DestRegister: expr.Reg1, Flags: 2}, "flags 0x2"},
		{&expr.Osf{DestRegister: expr.Reg32(14)}, "16 bytes"},
		{&expr.Tunnel{Key: 2, DestRegister: expr.Reg1}, "key 2"},
		{&expr.Tunnel{Key: expr.TunnelID, DestRegister: expr.Reg1, Mode: 3}, "mode 3"},
		{&expr.Inner{Type: expr.InnerVXLAN, Expr: &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}, Num: 1}, "level 1"},
		{&expr.Inner{Type: 7, Expr: &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}}, "type 7"},
		{&expr.Inner{Type: expr.InnerVXLAN, Flags: expr.InnerHdrSize, HdrSize: 65, Expr: &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}}, "size 65"},
		{&expr.Inner{Type: expr.InnerVXLAN, Flags: 0x10, Expr: &expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1}}, "flags 0x10"},
		{&expr.Inner{Type: expr.InnerVXLAN}, "without an expression"},
		{&expr.Inner{Type: expr.InnerVXLAN, Expr: &expr.Meta{Key: expr.MetaMark, DestRegister: expr.Reg1}}, "inner meta mark"},
		{&expr.Inner{Type: expr.InnerVXLAN, Expr: &expr.Counter{}}, "inner expression counter"},
		{&expr.Inner{Type: expr.InnerVXLAN, Expr: &expr.Payload{Base: expr.NetworkHeader, Len: 0, DestRegister: expr.Reg1}}, "len 0"},
		{&expr.Queue{Total: 1, Flags: 4}, "flags 0x4"},
		{&expr.Synproxy{Flags: 0x20}, "flags 0x20"},
		{&expr.Rt{Key: expr.RtNexthop6, DestRegister: expr.Reg32(14)}, "16 bytes"},
		{&expr.Xfrm{Key: expr.XfrmSaddrIP6, DestRegister: expr.Reg32(14)}, "16 bytes"},
		{&expr.Socket{Key: expr.SocketCgroupv2, Level: 1, DestRegister: expr.Reg32(15)}, "8 bytes"},
		{&expr.Fwd{RegDev: expr.Reg1, NFProto: 2}, "family 2"},
	}
}

func TestValidate(t *testing.T) {
	for _, c := range invalidCases() {
		_, err := expr.Encode([]expr.Any{c.e})
		require.Error(t, err, "%#v", c.e)
		require.True(t, errors.Is(err, expr.ErrInvalid), "%v", err)
		require.Contains(t, err.Error(), c.want)
	}
	_, err := expr.Encode([]expr.Any{nil})
	require.ErrorIs(t, err, expr.ErrInvalid)
}

// Unknown expressions and unknown attributes survive as Raw, byte for byte.
func TestRawKeepsUnknown(t *testing.T) {
	// An expression the package does not know.
	in, err := expr.Encode([]expr.Any{&expr.Raw{ExprName: "futurexpr", Data: []byte{8, 0, 1, 0, 0, 0, 0, 42}}})
	require.NoError(t, err)
	got, err := expr.Decode(in)
	require.NoError(t, err)
	require.Equal(t, []expr.Any{&expr.Raw{ExprName: "futurexpr", Data: []byte{8, 0, 1, 0, 0, 0, 0, 42}}}, got)
	out, err := expr.Encode(got)
	require.NoError(t, err)
	require.Equal(t, in, out)

	// A known expression with an attribute from the future (type 30).
	data := []byte{8, 0, 2, 0, 0, 0, 0, 3, 8, 0, 3, 0, 0, 0, 0, 1, 8, 0, 30, 0, 0, 0, 0, 1}
	in, err = expr.Encode([]expr.Any{&expr.Raw{ExprName: "meta", Data: data}})
	require.NoError(t, err)
	got, err = expr.Decode(in)
	require.NoError(t, err)
	require.Equal(t, []expr.Any{&expr.Raw{ExprName: "meta", Data: data}}, got)

	// Without the extra attribute it is typed.
	got, err = expr.Decode(mustEncode(t, &expr.Raw{ExprName: "meta", Data: data[:16]}))
	require.NoError(t, err)
	require.Equal(t, []expr.Any{&expr.Meta{Key: expr.MetaMark, SourceRegister: expr.Reg1}}, got)
}

func mustEncode(t *testing.T, es ...expr.Any) []byte {
	t.Helper()
	b, err := expr.Encode(es)
	require.NoError(t, err)
	return b
}
