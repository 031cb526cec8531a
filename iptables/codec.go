package iptables

import (
	"encoding/binary"
	"strings"

	"github.com/mdlayher/netlink"
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

type enc struct{ list []xpr }

func (e *enc) add(name string, fn func(ae *netlink.AttributeEncoder)) {
	ae := attr.NewEncoder()
	fn(ae)
	b, _ := ae.Encode()
	e.list = append(e.list, xpr{name, b})
}

func dataValue(ae *netlink.AttributeEncoder, typ uint16, v []byte) {
	nest(ae, typ, func(n *netlink.AttributeEncoder) error {
		n.Bytes(unix.NFTA_DATA_VALUE, v)
		return nil
	})
}

func (e *enc) metaLoad(key uint32) {
	e.add("meta", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NFTA_META_KEY, key)
		ae.Uint32(unix.NFTA_META_DREG, 1)
	})
}

func (e *enc) payload(base, off, n uint32) {
	e.add("payload", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NFTA_PAYLOAD_DREG, 1)
		ae.Uint32(unix.NFTA_PAYLOAD_BASE, base)
		ae.Uint32(unix.NFTA_PAYLOAD_OFFSET, off)
		ae.Uint32(unix.NFTA_PAYLOAD_LEN, n)
	})
}

func (e *enc) cmp(op uint32, v []byte) {
	e.add("cmp", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NFTA_CMP_SREG, 1)
		ae.Uint32(unix.NFTA_CMP_OP, op)
		dataValue(ae, unix.NFTA_CMP_DATA, v)
	})
}

func (e *enc) bitwise(mask []byte) {
	e.add("bitwise", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NFTA_BITWISE_SREG, 1)
		ae.Uint32(unix.NFTA_BITWISE_DREG, 1)
		ae.Uint32(unix.NFTA_BITWISE_LEN, uint32(len(mask)))
		ae.Uint32(6, 0) // NFTA_BITWISE_OP: NFT_BITWISE_BOOL
		dataValue(ae, unix.NFTA_BITWISE_MASK, mask)
		dataValue(ae, unix.NFTA_BITWISE_XOR, make([]byte, len(mask)))
	})
}

func (e *enc) rangeCmp(op uint32, lo, hi []byte) {
	e.add("range", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(1, 1) // NFTA_RANGE_SREG
		ae.Uint32(2, op)
		dataValue(ae, 3, lo)
		dataValue(ae, 4, hi)
	})
}

func (e *enc) xt(kind string, x ext, f Family) {
	e.add(kind, func(ae *netlink.AttributeEncoder) {
		ae.String(1, x.Name())
		ae.Uint32(2, uint32(x.Revision()))
		ae.Bytes(3, x.info(f))
	})
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
			return nil, err
		}
		if !encodeNativeMatch(e, m) {
			e.xt("match", m, f)
		}
	}
	e.add("counter", func(ae *netlink.AttributeEncoder) {
		ae.Uint64(unix.NFTA_COUNTER_BYTES, r.Counters.Bytes)
		ae.Uint64(unix.NFTA_COUNTER_PACKETS, r.Counters.Packets)
	})
	switch t := r.Target.(type) {
	case nil:
	case *Verdict:
		code := map[string]int32{"ACCEPT": 1, "DROP": 0, "RETURN": -5, "QUEUE": 3}[t.Kind]
		e.verdict(code, "")
	case *Jump:
		if err := t.check(f); err != nil {
			return nil, err
		}
		if t.Goto {
			e.verdict(-4, t.Chain)
		} else {
			e.verdict(-3, t.Chain)
		}
	default:
		if err := t.check(f); err != nil {
			return nil, err
		}
		e.xt("target", t, f)
	}
	return e.list, nil
}

func (e *enc) verdict(code int32, chain string) {
	e.add("immediate", func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NFTA_IMMEDIATE_DREG, 0)
		nest(ae, unix.NFTA_IMMEDIATE_DATA, func(d *netlink.AttributeEncoder) error {
			nest(d, unix.NFTA_DATA_VERDICT, func(v *netlink.AttributeEncoder) error {
				v.Uint32(unix.NFTA_VERDICT_CODE, uint32(code))
				if chain != "" {
					v.String(unix.NFTA_VERDICT_CHAIN, chain)
				}
				return nil
			})
			return nil
		})
	})
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
		e.add("limit", func(ae *netlink.AttributeEncoder) {
			ae.Uint64(1, m.Rate)
			ae.Uint64(2, m.Unit)
			ae.Uint32(3, m.Burst)
			ae.Uint32(4, 0)
			ae.Uint32(5, 0)
		})
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
	ae := attr.NewEncoder()
	for _, x := range list {
		nest(ae, unix.NFTA_LIST_ELEM, func(n *netlink.AttributeEncoder) error {
			n.String(unix.NFTA_EXPR_NAME, x.name)
			n.Do(unix.NFTA_EXPR_DATA, func() ([]byte, error) { return x.data, nil })
			return nil
		})
	}
	return ae.Encode()
}

// nest writes a nested attribute without NLA_F_NESTED: libmnl (and so
// iptables-nft) does not set it, and the kernel dumps nests without it.
func nest(ae *netlink.AttributeEncoder, typ uint16, fn func(*netlink.AttributeEncoder) error) {
	in := attr.NewEncoder()
	err := fn(in)
	b, err2 := in.Encode()
	ae.Do(typ, func() ([]byte, error) {
		if err != nil {
			return nil, err
		}
		return b, err2
	})
}
