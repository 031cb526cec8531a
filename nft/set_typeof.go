package nft

import (
	"encoding/binary"
	"strconv"
)

// `typeof` set keys. nft stores the expressions a set was declared with
// (`typeof ip saddr . tcp dport`) in the set's user data, so that `nft
// list` prints them instead of the bare types; the kernel never reads
// them. Layout (nft 1.0.6, measured): TLV NFTNL_UDATA_SET_KEY_TYPEOF (3) or
// _DATA_TYPEOF (4) holding TLVs EXPR (0: nft's expression type, u32 host
// order) and DATA (1: the expression's own TLVs); a concatenation is EXPR
// = concat whose DATA holds one TLV per field (type = index), each an
// EXPR/DATA pair. Payload DATA: protocol description (0) and header field
// (1), nft's own numbering; meta DATA: the kernel key (0); ct DATA: the
// kernel key (0) and direction (1, 0xffffffff for none). Maps also get
// NFTNL_UDATA_SET_DATA_INTERVAL (6).

const (
	udataSetKeyTypeof   = 3 // NFTNL_UDATA_SET_KEY_TYPEOF
	udataSetDataTypeof  = 4 // NFTNL_UDATA_SET_DATA_TYPEOF
	udataSetDataIntvl   = 6 // NFTNL_UDATA_SET_DATA_INTERVAL
	udataTypeofExpr     = 0 // NFTNL_UDATA_SET_TYPEOF_EXPR
	udataTypeofData     = 1 // NFTNL_UDATA_SET_TYPEOF_DATA
	typeofKindConcat    = 13
	typeofCTDirNone     = 0xffffffff
	maxTypeofConcatDeep = 1
)

// TypeofKind is nft's expression type of a `typeof` field.
type TypeofKind uint32

// The expression kinds nft 1.0.6 stores for typeof (its enum expr_types).
const (
	TypeofPayload TypeofKind = 7  // EXPR_PAYLOAD: ip saddr, tcp dport, ...
	TypeofMeta    TypeofKind = 9  // EXPR_META: meta mark, iifname, ...
	TypeofCT      TypeofKind = 12 // EXPR_CT: ct state, ct mark, ...
)

// Typeof is one field of a set's `typeof` declaration. Use the predefined
// values (TypeofIPSaddr, ...); others can be built from nft's numbering.
type Typeof struct {
	Kind TypeofKind
	// Payload: nft's protocol description and header field numbers.
	Proto, Field uint32
	// Meta and ct: the kernel key (NFT_META_*, NFT_CT_*); ct also the
	// direction (0xffffffff: none, 0 original, 1 reply).
	Key, Dir uint32
	// Type is the key type the field has (the set's KeyType when
	// KeyType is not given).
	Type DataType
	// Text is how nft prints the field ("ip saddr"); informational.
	Text string
}

// Common typeof fields (numbering measured from nft 1.0.6's requests).
var (
	TypeofIPSaddr     = Typeof{Kind: TypeofPayload, Proto: 12, Field: 11, Type: TypeIPv4Addr, Text: "ip saddr"}
	TypeofIPDaddr     = Typeof{Kind: TypeofPayload, Proto: 12, Field: 12, Type: TypeIPv4Addr, Text: "ip daddr"}
	TypeofIPProtocol  = Typeof{Kind: TypeofPayload, Proto: 12, Field: 9, Type: TypeInetProto, Text: "ip protocol"}
	TypeofIP6Saddr    = Typeof{Kind: TypeofPayload, Proto: 13, Field: 8, Type: TypeIPv6Addr, Text: "ip6 saddr"}
	TypeofIP6Daddr    = Typeof{Kind: TypeofPayload, Proto: 13, Field: 9, Type: TypeIPv6Addr, Text: "ip6 daddr"}
	TypeofTCPSport    = Typeof{Kind: TypeofPayload, Proto: 8, Field: 1, Type: TypeInetService, Text: "tcp sport"}
	TypeofTCPDport    = Typeof{Kind: TypeofPayload, Proto: 8, Field: 2, Type: TypeInetService, Text: "tcp dport"}
	TypeofUDPSport    = Typeof{Kind: TypeofPayload, Proto: 6, Field: 1, Type: TypeInetService, Text: "udp sport"}
	TypeofUDPDport    = Typeof{Kind: TypeofPayload, Proto: 6, Field: 2, Type: TypeInetService, Text: "udp dport"}
	TypeofTHDport     = Typeof{Kind: TypeofPayload, Proto: 11, Field: 2, Type: TypeInetService, Text: "th dport"}
	TypeofEtherSaddr  = Typeof{Kind: TypeofPayload, Proto: 17, Field: 2, Type: TypeEtherAddr, Text: "ether saddr"}
	TypeofMetaMark    = Typeof{Kind: TypeofMeta, Key: 3, Type: TypeMark, Text: "meta mark"}
	TypeofIifname     = Typeof{Kind: TypeofMeta, Key: 6, Type: TypeIfname, Text: "iifname"}
	TypeofOifname     = Typeof{Kind: TypeofMeta, Key: 7, Type: TypeIfname, Text: "oifname"}
	TypeofMetaL4Proto = Typeof{Kind: TypeofMeta, Key: 16, Type: TypeInetProto, Text: "meta l4proto"}
	TypeofCTState     = Typeof{Kind: TypeofCT, Key: 0, Dir: typeofCTDirNone, Type: TypeCTState, Text: "ct state"}
	TypeofCTMark      = Typeof{Kind: TypeofCT, Key: 3, Dir: typeofCTDirNone, Type: TypeMark, Text: "ct mark"}
)

var knownTypeofs = []Typeof{TypeofIPSaddr, TypeofIPDaddr, TypeofIPProtocol, TypeofIP6Saddr, TypeofIP6Daddr,
	TypeofTCPSport, TypeofTCPDport, TypeofUDPSport, TypeofUDPDport, TypeofTHDport, TypeofEtherSaddr,
	TypeofMetaMark, TypeofIifname, TypeofOifname, TypeofMetaL4Proto, TypeofCTState, TypeofCTMark}

func (t Typeof) String() string {
	if t.Text != "" {
		return t.Text
	}
	return "typeof(" + strconv.Itoa(int(t.Kind)) + ")"
}

// same compares the wire identity of two fields (not Type or Text).
func (t Typeof) same(o Typeof) bool {
	return t.Kind == o.Kind && t.Proto == o.Proto && t.Field == o.Field && t.Key == o.Key && t.Dir == o.Dir
}

func udataU32(typ uint8, v uint32) []byte {
	return binary.NativeEndian.AppendUint32([]byte{typ, 4}, v)
}

func udataTLV(typ uint8, v []byte) []byte { return append([]byte{typ, byte(len(v))}, v...) }

// marshal returns the EXPR and DATA TLVs of one field.
func (t Typeof) marshal() []byte {
	var data []byte
	switch t.Kind {
	case TypeofPayload:
		data = append(udataU32(0, t.Proto), udataU32(1, t.Field)...)
	case TypeofMeta:
		data = udataU32(0, t.Key)
	case TypeofCT:
		data = append(udataU32(0, t.Key), udataU32(1, t.Dir)...)
	}
	return append(udataU32(udataTypeofExpr, uint32(t.Kind)), udataTLV(udataTypeofData, data)...)
}

// typeofUdata returns the value of a KEY_TYPEOF / DATA_TYPEOF TLV.
func typeofUdata(fields []Typeof) []byte {
	if len(fields) == 1 {
		return fields[0].marshal()
	}
	var nest []byte
	for i, f := range fields {
		nest = append(nest, udataTLV(uint8(i), f.marshal())...)
	}
	return append(udataU32(udataTypeofExpr, typeofKindConcat), udataTLV(udataTypeofData, nest)...)
}

func udataU32Of(b []byte, typ uint8) (uint32, bool) {
	v, ok := udataGet(b, typ)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(v), true
}

// parseTypeof reads a KEY_TYPEOF / DATA_TYPEOF value; ok is false for
// anything it does not recognise exactly (the raw user data stays).
func parseTypeof(b []byte, depth int) ([]Typeof, bool) {
	kind, ok := udataU32Of(b, udataTypeofExpr)
	data, ok2 := udataGet(b, udataTypeofData)
	if !ok || !ok2 {
		return nil, false
	}
	if kind == typeofKindConcat {
		if depth >= maxTypeofConcatDeep {
			return nil, false
		}
		var out []Typeof
		for i := 0; ; i++ {
			sub, found := udataGet(data, uint8(i))
			if !found {
				break
			}
			f, ok := parseTypeof(sub, depth+1)
			if !ok || len(f) != 1 {
				return nil, false
			}
			out = append(out, f[0])
		}
		return out, len(out) > 0
	}
	t := Typeof{Kind: TypeofKind(kind)}
	switch t.Kind {
	case TypeofPayload:
		t.Proto, ok = udataU32Of(data, 0)
		t.Field, ok2 = udataU32Of(data, 1)
	case TypeofMeta:
		t.Key, ok = udataU32Of(data, 0)
	case TypeofCT:
		t.Key, ok = udataU32Of(data, 0)
		t.Dir, ok2 = udataU32Of(data, 1)
	default:
		return nil, false
	}
	if !ok || !ok2 || string(t.marshal()) != string(b) {
		return nil, false
	}
	for _, k := range knownTypeofs {
		if k.same(t) {
			t = k
		}
	}
	return []Typeof{t}, true
}

// typeofKeyTypes derives key types from typeof fields (all must carry a
// Type).
func typeofKeyTypes(fields []Typeof) ([]DataType, bool) {
	out := make([]DataType, len(fields))
	for i, f := range fields {
		if f.Type.Len == 0 {
			return nil, false
		}
		out[i] = f.Type
	}
	return out, true
}
