package expr_test

import (
	"fmt"

	"github.com/nfkit/nfkit/nft/expr"
)

// The expressions of `ip saddr 192.0.2.1 tcp dport 22 accept`, encoded for
// NFTA_RULE_EXPRESSIONS and decoded back.
func Example() {
	rule := []expr.Any{
		&expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{192, 0, 2, 1}},
		&expr.Meta{Key: expr.MetaL4proto, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
		&expr.Payload{Base: expr.TransportHeader, Offset: 2, Len: 2, DestRegister: expr.Reg1},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{0, 22}},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
	b, err := expr.Encode(rule)
	if err != nil {
		panic(err)
	}
	back, err := expr.Decode(b)
	if err != nil {
		panic(err)
	}
	for _, e := range back {
		fmt.Printf("%s ", e.Name())
	}
	fmt.Println(len(b), "bytes")
	// Output: payload cmp meta cmp payload cmp immediate 320 bytes
}

// An expression nfkit does not know survives as Raw, byte for byte.
func ExampleRaw() {
	b, _ := expr.Encode([]expr.Any{&expr.Raw{ExprName: "future", Data: []byte{8, 0, 1, 0, 0, 0, 0, 1}}})
	got, _ := expr.Decode(b)
	fmt.Printf("%T %s %x\n", got[0], got[0].Name(), got[0].(*expr.Raw).Data)
	// Output: *expr.Raw future 0800010000000001
}

// Encode refuses invalid input before anything is sent.
func ExampleEncode_invalid() {
	_, err := expr.Encode([]expr.Any{&expr.Cmp{Op: expr.CmpEq, Register: 42, Data: []byte{1}}})
	fmt.Println(err)
	// Output: expression 0 (cmp): invalid nf_tables expression: cmp source register 42 is not an nf_tables register
}

// An Inner expression (nft 1.1's `vxlan ip saddr 192.0.2.1`): a payload
// load run on the packet inside a VXLAN tunnel, nested in the inner
// expression and decoded back typed.
func ExampleInner() {
	rule := []expr.Any{
		&expr.Inner{Type: expr.InnerVXLAN, Flags: expr.InnerHdrSize | expr.InnerLL | expr.InnerNH, HdrSize: 8,
			Expr: &expr.Payload{Base: expr.NetworkHeader, Offset: 12, Len: 4, DestRegister: expr.Reg1}},
		&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{192, 0, 2, 1}},
	}
	b, err := expr.Encode(rule)
	if err != nil {
		panic(err)
	}
	back, _ := expr.Decode(b)
	in := back[0].(*expr.Inner)
	fmt.Println(in.Type, in.Flags, in.Expr.Name(), in.Expr.(*expr.Payload).Offset)
	// Output: vxlan hdrsize,ll,nh payload 12
}
