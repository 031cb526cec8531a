package iptables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
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

// unmarshalExprs splits an NFTA_RULE_EXPRESSIONS payload.
func unmarshalExprs(b []byte) ([]xpr, error) {
	ad, err := attr.NewDecoder(b)
	if err != nil {
		return nil, err
	}
	var out []xpr
	for ad.Next() {
		var x xpr
		ad.Nested(func(n *netlink.AttributeDecoder) error {
			for n.Next() {
				switch n.Type() {
				case unix.NFTA_EXPR_NAME:
					x.name = n.String()
				case unix.NFTA_EXPR_DATA:
					x.data = attr.Clone(n.Bytes())
				}
			}
			return nil
		})
		out = append(out, x)
	}
	return out, ad.Err()
}

// fields decodes one expression's attributes (nested data values
// flattened: NFTA_DATA_VALUE contents under the outer type).
func fields(x xpr) (map[uint16][]byte, error) {
	ad, err := attr.NewDecoder(x.data)
	if err != nil {
		return nil, err
	}
	m := map[uint16][]byte{}
	for ad.Next() {
		m[ad.Type()] = ad.Bytes()
	}
	return m, ad.Err()
}

func u32(b []byte) uint32 {
	if len(b) != 4 {
		return 0xffffffff
	}
	return binary.BigEndian.Uint32(b)
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// dataOf returns the NFTA_DATA_VALUE inside a data nest.
func dataOf(b []byte) []byte {
	ad, err := attr.NewDecoder(b)
	if err != nil {
		return nil
	}
	for ad.Next() {
		if ad.Type() == unix.NFTA_DATA_VALUE {
			return ad.Bytes()
		}
	}
	return nil
}

var errForeignShape = errors.New("shape not written by iptables-nft")

// decodeRule turns expressions back into a Rule. Any shape iptables-nft
// 1.8.9 does not write yields an error wrapping ErrForeign.
func decodeRule(f Family, list []xpr) (*Rule, error) {
	r := &Rule{Family: f}
	i := 0
	next := func(name string) (map[uint16][]byte, bool) {
		if i < len(list) && list[i].name == name {
			m, err := fields(list[i])
			if err == nil {
				i++
				return m, true
			}
		}
		return nil, false
	}
	foreign := func(why string) error {
		return fmt.Errorf("%w: expression %d (%s): %s", ErrForeign, i, exprName(list, i), why)
	}
	// cmpAfter reads an optional bitwise then a cmp on register 1.
	cmpAfter := func() (mask, val []byte, op uint32, ok bool) {
		if bw, isBw := next("bitwise"); isBw {
			if u32(bw[unix.NFTA_BITWISE_SREG]) != 1 || u32(bw[unix.NFTA_BITWISE_DREG]) != 1 {
				return nil, nil, 0, false
			}
			if x := dataOf(bw[unix.NFTA_BITWISE_XOR]); !bytes.Equal(x, make([]byte, len(x))) {
				return nil, nil, 0, false
			}
			mask = dataOf(bw[unix.NFTA_BITWISE_MASK])
		}
		c, isCmp := next("cmp")
		if !isCmp || u32(c[unix.NFTA_CMP_SREG]) != 1 {
			return nil, nil, 0, false
		}
		return mask, dataOf(c[unix.NFTA_CMP_DATA]), u32(c[unix.NFTA_CMP_OP]), true
	}
	for i < len(list) {
		x := list[i]
		switch x.name {
		case "meta":
			m, _ := next("meta")
			if _, isSet := m[unix.NFTA_META_SREG]; isSet || u32(m[unix.NFTA_META_DREG]) != 1 {
				return nil, foreign("meta set")
			}
			key := u32(m[unix.NFTA_META_KEY])
			switch key {
			case unix.NFT_META_IIFNAME, unix.NFT_META_OIFNAME:
				ifc := Iface{Name: "+"}
				if i < len(list) && list[i].name == "cmp" {
					mask, v, op, ok := cmpAfter()
					if !ok || mask != nil || op > unix.NFT_CMP_NEQ || len(v) == 0 {
						return nil, foreign("interface compare")
					}
					if v[len(v)-1] == 0 {
						ifc.Name = string(bytes.TrimRight(v, "\x00"))
					} else {
						ifc.Name = string(v) + "+"
					}
					ifc.Invert = op == unix.NFT_CMP_NEQ
				}
				if key == unix.NFT_META_IIFNAME {
					r.In = ifc
				} else {
					r.Out = ifc
				}
			case unix.NFT_META_L4PROTO:
				mask, v, op, ok := cmpAfter()
				if !ok || mask != nil || op > unix.NFT_CMP_NEQ || len(v) != 1 {
					return nil, foreign("protocol compare")
				}
				r.Protocol, r.ProtoInvert = v[0], op == unix.NFT_CMP_NEQ
			case unix.NFT_META_MARK:
				mask, v, op, ok := cmpAfter()
				if !ok || op > unix.NFT_CMP_NEQ || len(v) != 4 || (mask != nil && len(mask) != 4) {
					return nil, foreign("mark compare")
				}
				mk := &Mark{Value: binary.LittleEndian.Uint32(v), Mask: 0xffffffff, Invert: op == unix.NFT_CMP_NEQ}
				if mask != nil {
					mk.Mask = binary.LittleEndian.Uint32(mask)
				}
				r.Matches = append(r.Matches, mk)
			default:
				return nil, foreign("meta key")
			}
		case "payload":
			p, _ := next("payload")
			if u32(p[unix.NFTA_PAYLOAD_DREG]) != 1 {
				return nil, foreign("payload register")
			}
			base, off, n := u32(p[unix.NFTA_PAYLOAD_BASE]), u32(p[unix.NFTA_PAYLOAD_OFFSET]), u32(p[unix.NFTA_PAYLOAD_LEN])
			if base == unix.NFT_PAYLOAD_TRANSPORT_HEADER {
				if err := decodeTransport(r, f, off, n, list, &i); err != nil {
					return nil, foreign(err.Error())
				}
				continue
			}
			if base != unix.NFT_PAYLOAD_NETWORK_HEADER {
				return nil, foreign("payload base")
			}
			mask, v, op, ok := cmpAfter()
			if !ok || op > unix.NFT_CMP_NEQ || len(v) != int(n) {
				return nil, foreign("payload compare")
			}
			if f == IPv4 && off == 6 && n == 2 && bytes.Equal(mask, []byte{0x1f, 0xff}) && bytes.Equal(v, []byte{0, 0}) {
				r.Fragment = 1
				if op == unix.NFT_CMP_EQ {
					r.Fragment = -1
				}
				continue
			}
			srcOff, dstOff := uint32(12), uint32(16)
			if f == IPv6 {
				srcOff, dstOff = 8, 24
			}
			al := f.addrLen()
			if (off != srcOff && off != dstOff) || int(n) > al {
				return nil, foreign("payload offset")
			}
			full := make([]byte, al)
			copy(full, v)
			var mk []byte
			if mask != nil {
				if len(mask) != al || int(n) != al {
					return nil, foreign("address mask")
				}
				mk = mask
			} else {
				mk = make([]byte, al)
				for j := 0; j < int(n); j++ {
					mk[j] = 0xff
				}
			}
			a, _ := netip.AddrFromSlice(full)
			m, _ := netip.AddrFromSlice(mk)
			ad := Addr{Addr: a, Mask: m, Invert: op == unix.NFT_CMP_NEQ}
			if off == srcOff {
				r.Src = ad
			} else {
				r.Dst = ad
			}
		case "match", "target":
			m, _ := next(x.name)
			name := strings.TrimRight(string(m[1]), "\x00")
			rev := u32(m[2])
			info := m[3]
			e, err := decodeXT(f, x.name == "target", name, uint8(rev), info)
			if err != nil {
				return nil, foreign(err.Error())
			}
			if x.name == "match" {
				r.Matches = append(r.Matches, e.(Match))
			} else {
				r.Target = e.(Target)
			}
		case "limit":
			m, _ := next("limit")
			if u32(m[4]) != 0 || u32(m[5]) != 0 {
				return nil, foreign("limit type/flags")
			}
			r.Matches = append(r.Matches, &Limit{Rate: u64(m[1]), Unit: u64(m[2]), Burst: u32(m[3])})
		case "counter":
			m, _ := next("counter")
			r.Counters = Counters{Packets: u64(m[unix.NFTA_COUNTER_PACKETS]), Bytes: u64(m[unix.NFTA_COUNTER_BYTES])}
		case "immediate":
			m, _ := next("immediate")
			if u32(m[unix.NFTA_IMMEDIATE_DREG]) != 0 || i != len(list) {
				return nil, foreign("immediate")
			}
			t, err := decodeVerdict(m[unix.NFTA_IMMEDIATE_DATA])
			if err != nil {
				return nil, foreign(err.Error())
			}
			r.Target = t
		default:
			return nil, foreign("expression type")
		}
	}
	return r, nil
}

func exprName(list []xpr, i int) string {
	if i < len(list) {
		return list[i].name
	}
	return "end"
}

func decodeVerdict(b []byte) (Target, error) {
	ad, err := attr.NewDecoder(b)
	if err != nil {
		return nil, err
	}
	var code int32
	var chain string
	for ad.Next() {
		if ad.Type() == unix.NFTA_DATA_VERDICT {
			vd, err := attr.NewDecoder(ad.Bytes())
			if err != nil {
				return nil, err
			}
			for vd.Next() {
				switch vd.Type() {
				case unix.NFTA_VERDICT_CODE:
					code = int32(vd.Uint32())
				case unix.NFTA_VERDICT_CHAIN:
					chain = vd.String()
				}
			}
		}
	}
	switch code {
	case 1:
		return Accept, nil
	case 0:
		return Drop, nil
	case -5:
		return Return, nil
	case 3:
		return Queue, nil
	case -3:
		return &Jump{Chain: chain}, nil
	case -4:
		return &Jump{Chain: chain, Goto: true}, nil
	}
	return nil, fmt.Errorf("verdict %d", code)
}

// decodeTransport folds a native transport-header compare into the
// rule's tcp/udp match.
func decodeTransport(r *Rule, f Family, off, n uint32, list []xpr, i *int) error {
	var proto string
	switch r.Protocol {
	case 6:
		proto = "tcp"
	case 17:
		proto = "udp"
	default:
		return errors.New("transport header without -p tcp/udp")
	}
	if r.ProtoInvert {
		return errors.New("transport header with inverted protocol")
	}
	// The tcp/udp match this compare belongs to is the last match if it is
	// a native one of that protocol, else a new one.
	var tcp *TCP
	var udp *UDP
	if k := len(r.Matches); k > 0 {
		switch m := r.Matches[k-1].(type) {
		case *TCP:
			if proto == "tcp" {
				tcp = m
			}
		case *UDP:
			if proto == "udp" {
				udp = m
			}
		}
	}
	if proto == "tcp" && tcp == nil {
		tcp = NewTCP()
		r.Matches = append(r.Matches, tcp)
	}
	if proto == "udp" && udp == nil {
		udp = NewUDP()
		r.Matches = append(r.Matches, udp)
	}
	get := func(name string) (map[uint16][]byte, bool) {
		if *i < len(list) && list[*i].name == name {
			m, err := fields(list[*i])
			if err == nil {
				*i++
				return m, true
			}
		}
		return nil, false
	}
	var mask []byte
	if bw, ok := get("bitwise"); ok {
		mask = dataOf(bw[unix.NFTA_BITWISE_MASK])
	}
	var lo, hi []byte
	var op uint32
	isRange := false
	if c, ok := get("cmp"); ok {
		lo, op = dataOf(c[unix.NFTA_CMP_DATA]), u32(c[unix.NFTA_CMP_OP])
	} else if rg, ok := get("range"); ok {
		lo, hi, op, isRange = dataOf(rg[3]), dataOf(rg[4]), u32(rg[2]), true
	} else {
		return errors.New("transport header without compare")
	}
	switch {
	case off == 13 && n == 1 && tcp != nil && len(mask) == 1 && len(lo) == 1 && !isRange && op <= 1:
		tcp.FlagMask, tcp.FlagCmp, tcp.FlagsInv = mask[0], lo[0], op == 1
		return nil
	case off == 0 && n == 4 && mask == nil && !isRange && op == 0 && len(lo) == 4:
		s, d := binary.BigEndian.Uint16(lo), binary.BigEndian.Uint16(lo[2:])
		if tcp != nil {
			tcp.Src, tcp.Dst = PortRange{s, s}, PortRange{d, d}
		} else {
			udp.Src, udp.Dst = PortRange{s, s}, PortRange{d, d}
		}
		return nil
	case (off == 0 || off == 2) && n == 2 && mask == nil && len(lo) == 2:
		v := binary.BigEndian.Uint16(lo)
		var pr PortRange
		var inv bool
		switch {
		case isRange && len(hi) == 2 && op <= 1:
			pr, inv = PortRange{v, binary.BigEndian.Uint16(hi)}, op == 1
		case !isRange && op <= 1:
			pr, inv = PortRange{v, v}, op == 1
		case !isRange && op == unix.NFT_CMP_LTE:
			pr = PortRange{0, v}
		case !isRange && op == unix.NFT_CMP_GT:
			pr, inv = PortRange{0, v}, true
		default:
			return errors.New("port compare")
		}
		switch {
		case tcp != nil && off == 0:
			tcp.Src, tcp.SrcInv = pr, inv
		case tcp != nil:
			tcp.Dst, tcp.DstInv = pr, inv
		case off == 0:
			udp.Src, udp.SrcInv = pr, inv
		default:
			udp.Dst, udp.DstInv = pr, inv
		}
		return nil
	}
	return errors.New("transport header compare")
}

// decodeXT builds the typed extension for an xt match/target, or an
// opaque Extension for one nfkit has no type for.
func decodeXT(f Family, target bool, name string, rev uint8, info []byte) (ext, error) {
	var e ext
	if target {
		if t := newTarget(name, f); t != nil {
			if _, isV := t.(*Verdict); !isV {
				e = t
			}
		}
	} else if m := newMatch(name, f); m != nil {
		e = m
	}
	if e == nil || e.Revision() != rev && !(name == "SNAT") {
		return &Extension{ExtName: name, Rev: rev, Info: append([]byte(nil), info...), IsTarget: target}, nil
	}
	if err := e.setInfo(f, info); err != nil {
		return &Extension{ExtName: name, Rev: rev, Info: append([]byte(nil), info...), IsTarget: target}, nil
	}
	if !bytes.Equal(e.info(f), info) { // keep exactly what was written
		return &Extension{ExtName: name, Rev: rev, Info: append([]byte(nil), info...), IsTarget: target}, nil
	}
	if _, isMark := e.(*Mark); isMark { // iptables-nft writes mark natively
		return &Extension{ExtName: name, Rev: rev, Info: append([]byte(nil), info...), IsTarget: target}, nil
	}
	return e, nil
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
