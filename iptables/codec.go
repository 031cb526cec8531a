package iptables

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// This file turns a Rule into the nf_tables expressions iptables-nft 1.8.9
// writes for it, and back. The shapes were captured from iptables-nft
// (testdata/rules.json) and are checked byte for byte by the tests.

// xpr is one expression: its name and its NFTA_EXPR_DATA attributes.
type xpr struct {
	name string
	data []byte
}

// enc builds an NFTA_RULE_EXPRESSIONS payload in place: one
// NFTA_LIST_ELEM per expression, each holding its name and its data.
type enc struct {
	w   attr.Writer
	fix []setFix // ipset indexes to fill in (sets.go)
}

// begin opens the element of an expression called name and its data nest.
func (e *enc) begin(name string) (int, int) {
	el := e.w.Begin(unix.NFTA_LIST_ELEM)
	e.w.String(unix.NFTA_EXPR_NAME, name)
	return el, e.w.Begin(unix.NFTA_EXPR_DATA)
}

func (e *enc) end(el, data int) {
	e.w.End(data)
	e.w.End(el)
}

// list returns the expressions as (name, data) pairs (tests, Fuzz).
func (e *enc) list() []xpr {
	out, _ := unmarshalExprs(e.w.Buf)
	return out
}

func (e *enc) metaLoad(key uint32) {
	el, d := e.begin("meta")
	e.w.U32(unix.NFTA_META_KEY, key)
	e.w.U32(unix.NFTA_META_DREG, 1)
	e.end(el, d)
}

func (e *enc) payload(base, off, n uint32) {
	el, d := e.begin("payload")
	e.w.U32(unix.NFTA_PAYLOAD_DREG, 1)
	e.w.U32(unix.NFTA_PAYLOAD_BASE, base)
	e.w.U32(unix.NFTA_PAYLOAD_OFFSET, off)
	e.w.U32(unix.NFTA_PAYLOAD_LEN, n)
	e.end(el, d)
}

func (e *enc) cmp(op uint32, v []byte) {
	el, d := e.begin("cmp")
	e.w.U32(unix.NFTA_CMP_SREG, 1)
	e.w.U32(unix.NFTA_CMP_OP, op)
	putData(&e.w, unix.NFTA_CMP_DATA, v)
	e.end(el, d)
}

func (e *enc) bitwise(mask []byte) {
	el, d := e.begin("bitwise")
	e.w.U32(unix.NFTA_BITWISE_SREG, 1)
	e.w.U32(unix.NFTA_BITWISE_DREG, 1)
	e.w.U32(unix.NFTA_BITWISE_LEN, uint32(len(mask)))
	e.w.U32(6, 0) // NFTA_BITWISE_OP: NFT_BITWISE_BOOL
	putData(&e.w, unix.NFTA_BITWISE_MASK, mask)
	putData(&e.w, unix.NFTA_BITWISE_XOR, zeros[:len(mask)])
	e.end(el, d)
}

func (e *enc) rangeCmp(op uint32, lo, hi []byte) {
	el, d := e.begin("range")
	e.w.U32(1, 1) // NFTA_RANGE_SREG
	e.w.U32(2, op)
	putData(&e.w, 3, lo)
	putData(&e.w, 4, hi)
	e.end(el, d)
}

func (e *enc) xt(kind string, x ext, f Family) {
	el, d := e.begin(kind)
	e.w.String(1, x.Name())
	e.w.U32(2, uint32(x.Revision()))
	e.recordSets(x, len(e.w.Buf)+4) // the info follows its attribute header
	e.w.Bytes(3, x.info(f))
	e.end(el, d)
}

func invOp(inv bool) uint32 {
	if inv {
		return unix.NFT_CMP_NEQ
	}
	return unix.NFT_CMP_EQ
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// ifaceBytes is the cmp operand for -i/-o: the name with its NUL, or for
// a "+" wildcard the prefix alone.
func ifaceBytes(name string) ([]byte, bool) {
	if strings.HasSuffix(name, "+") {
		return []byte(strings.TrimSuffix(name, "+")), true
	}
	return append([]byte(name), 0), false
}

// encodeRule returns the expressions for r in family f.
func encodeRule(f Family, r *Rule) ([]xpr, error) {
	e := &enc{}
	if err := e.rule(f, r); err != nil {
		return nil, err
	}
	return e.list(), nil
}

// rule appends the expressions of r to e.
func (e *enc) rule(f Family, r *Rule) error {
	for i, ifc := range []Iface{r.In, r.Out} {
		if ifc.Name == "" {
			continue
		}
		e.metaLoad([]uint32{unix.NFT_META_IIFNAME, unix.NFT_META_OIFNAME}[i])
		if b, _ := ifaceBytes(ifc.Name); len(b) > 0 {
			e.cmp(invOp(ifc.Invert), b)
		}
	}
	if r.Protocol != 0 || r.ProtoInvert {
		e.metaLoad(unix.NFT_META_L4PROTO)
		e.cmp(invOp(r.ProtoInvert), []byte{r.Protocol})
	}
	srcOff, dstOff := uint32(12), uint32(16)
	if f == IPv6 {
		srcOff, dstOff = 8, 24
	}
	for i, a := range []Addr{r.Src, r.Dst} {
		if a.IsZero() {
			continue
		}
		off := []uint32{srcOff, dstOff}[i]
		addr, mask := a.Addr.AsSlice(), a.Mask.AsSlice()
		if n := maskBits(a.Mask); n >= 0 && n%8 == 0 {
			if n == 0 {
				continue
			}
			e.payload(unix.NFT_PAYLOAD_NETWORK_HEADER, off, uint32(n/8))
			e.cmp(invOp(a.Invert), addr[:n/8])
			continue
		}
		e.payload(unix.NFT_PAYLOAD_NETWORK_HEADER, off, uint32(len(addr)))
		e.bitwise(mask)
		e.cmp(invOp(a.Invert), addr)
	}
	if r.Fragment != 0 {
		e.payload(unix.NFT_PAYLOAD_NETWORK_HEADER, 6, 2)
		e.bitwise([]byte{0x1f, 0xff})
		e.cmp(invOp(r.Fragment == 1), []byte{0, 0})
	}
	for _, m := range r.Matches {
		if err := m.check(f); err != nil {
			return err
		}
		if !encodeNativeMatch(e, m) {
			e.xt("match", m, f)
		}
	}
	el, d := e.begin("counter")
	e.w.U64(unix.NFTA_COUNTER_BYTES, r.Counters.Bytes)
	e.w.U64(unix.NFTA_COUNTER_PACKETS, r.Counters.Packets)
	e.end(el, d)
	switch t := r.Target.(type) {
	case nil:
	case *Verdict:
		e.verdict(verdictCode(t.Kind), "")
	case *TRACE:
		e.trace()
	case *NFLOG:
		if err := t.check(f); err != nil {
			return err
		}
		e.nflog(t)
	case *Jump:
		if err := t.check(f); err != nil {
			return err
		}
		if t.Goto {
			e.verdict(-4, t.Chain)
		} else {
			e.verdict(-3, t.Chain)
		}
	default:
		if err := t.check(f); err != nil {
			return err
		}
		e.xt("target", t, f)
	}
	return nil
}

func verdictCode(kind string) int32 {
	switch kind {
	case "ACCEPT":
		return 1
	case "RETURN":
		return -5
	case "QUEUE":
		return 3
	}
	return 0 // DROP
}

func (e *enc) verdict(code int32, chain string) {
	el, d := e.begin("immediate")
	e.w.U32(unix.NFTA_IMMEDIATE_DREG, 0)
	n1 := e.w.Begin(unix.NFTA_IMMEDIATE_DATA)
	n2 := e.w.Begin(unix.NFTA_DATA_VERDICT)
	e.w.U32(unix.NFTA_VERDICT_CODE, uint32(code))
	if chain != "" {
		e.w.String(unix.NFTA_VERDICT_CHAIN, chain)
	}
	e.w.End(n2)
	e.w.End(n1)
	e.end(el, d)
}

// encodeNativeMatch writes the native shape iptables-nft uses for m, if
// it has one.
func encodeNativeMatch(e *enc, m Match) bool {
	switch m := m.(type) {
	case *Mark:
		e.metaLoad(unix.NFT_META_MARK)
		if m.Mask != 0xffffffff {
			e.bitwise(binary.LittleEndian.AppendUint32(nil, m.Mask))
		}
		e.cmp(invOp(m.Invert), binary.LittleEndian.AppendUint32(nil, m.Value))
		return true
	case *Limit:
		el, d := e.begin("limit")
		e.w.U64(1, m.Rate)
		e.w.U64(2, m.Unit)
		e.w.U32(3, m.Burst)
		e.w.U32(4, 0)
		e.w.U32(5, 0)
		e.end(el, d)
		return true
	case *TCP:
		if m.Option != 0 || m.OptionInv || (m.Src.isAny() && !m.SrcInv && m.Dst.isAny() && !m.DstInv && m.FlagMask == 0 && !m.FlagsInv) {
			return false
		}
		if m.FlagMask != 0 || m.FlagsInv {
			e.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1)
			e.bitwise([]byte{m.FlagMask})
			e.cmp(invOp(m.FlagsInv), []byte{m.FlagCmp})
		}
		encodePorts(e, m.Src, m.SrcInv, m.Dst, m.DstInv)
		return true
	case *UDP:
		if m.Src.isAny() && !m.SrcInv && m.Dst.isAny() && !m.DstInv {
			return false
		}
		encodePorts(e, m.Src, m.SrcInv, m.Dst, m.DstInv)
		return true
	}
	return false
}

func encodePorts(e *enc, src PortRange, srcInv bool, dst PortRange, dstInv bool) {
	if src.Lo == src.Hi && dst.Lo == dst.Hi && !srcInv && !dstInv {
		e.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4)
		e.cmp(unix.NFT_CMP_EQ, append(be16(src.Lo), be16(dst.Lo)...))
		return
	}
	for i, p := range []PortRange{src, dst} {
		inv := []bool{srcInv, dstInv}[i]
		if p.isAny() && !inv {
			continue
		}
		e.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, uint32(2*i), 2)
		switch {
		case p.Lo == p.Hi:
			e.cmp(invOp(inv), be16(p.Lo))
		case p.Lo == 0 && !inv:
			e.cmp(unix.NFT_CMP_LTE, be16(p.Hi))
		case p.Lo == 0 && inv:
			e.cmp(unix.NFT_CMP_GT, be16(p.Hi))
		default:
			e.rangeCmp(invOp(inv), be16(p.Lo), be16(p.Hi))
		}
	}
}

// marshalExprs encodes xprs as an NFTA_RULE_EXPRESSIONS payload.
func marshalExprs(list []xpr) ([]byte, error) {
	var w attr.Writer
	for _, x := range list {
		el := w.Begin(unix.NFTA_LIST_ELEM)
		w.String(unix.NFTA_EXPR_NAME, x.name)
		w.Bytes(unix.NFTA_EXPR_DATA, x.data)
		w.End(el)
	}
	return w.Buf, w.Err()
}
