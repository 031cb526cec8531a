package nft

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ByteOrder is how nft stores a set key or value type's bytes; nft keeps it
// in the set's user data to print values correctly.
type ByteOrder uint32

// Byte orders (nft's enum byteorder).
const (
	ByteOrderInvalid ByteOrder = 0
	HostEndian       ByteOrder = 1
	BigEndian        ByteOrder = 2
)

// DataType is an nft data type for set keys and map values: nft's type id
// (NFTA_SET_KEY_TYPE / NFTA_SET_DATA_TYPE), the length in bytes and the
// byte order. Values of the type are Go values, converted by the library:
// see Element.
type DataType struct {
	Name      string
	ID        uint32
	Len       uint32
	ByteOrder ByteOrder
}

func (d DataType) String() string {
	if d.Name != "" {
		return d.Name
	}
	return "type(" + strconv.Itoa(int(d.ID)) + ")"
}

// nft's datatype ids (src/datatype.h, enum datatypes).
const (
	typeVerdict     = 1
	typeInteger     = 4
	typeIPAddr      = 7
	typeIP6Addr     = 8
	typeEtherAddr   = 9
	typeEtherType   = 10
	typeInetProto   = 12
	typeInetService = 13
	typeMark        = 19
	typeIfindex     = 20
	typeCTState     = 26
	typeIfname      = 41
	typeBits        = 6 // TYPE_BITS: concatenated type ids are shifted by this
)

// Data types of set keys and map values. Values: netip.Addr (or
// netip.Prefix / ranges in interval sets) for addresses, any Go integer for
// ports, protocols, marks and integers, string for interface names,
// net.HardwareAddr for ether addresses, Verdict for verdict maps, and []byte
// of the exact length for anything.
var (
	TypeIPv4Addr    = DataType{"ipv4_addr", typeIPAddr, 4, BigEndian}
	TypeIPv6Addr    = DataType{"ipv6_addr", typeIP6Addr, 16, BigEndian}
	TypeEtherAddr   = DataType{"ether_addr", typeEtherAddr, 6, BigEndian}
	TypeEtherType   = DataType{"ether_type", typeEtherType, 2, HostEndian}
	TypeInetProto   = DataType{"inet_proto", typeInetProto, 1, BigEndian}
	TypeInetService = DataType{"inet_service", typeInetService, 2, BigEndian}
	TypeMark        = DataType{"mark", typeMark, 4, HostEndian}
	TypeIfindex     = DataType{"iface_index", typeIfindex, 4, HostEndian}
	TypeIfname      = DataType{"ifname", typeIfname, 16, HostEndian}
	TypeCTState     = DataType{"ct_state", typeCTState, 4, HostEndian}
	TypeInteger     = DataType{"integer", typeInteger, 4, HostEndian}
	// TypeVerdict is the value type of verdict maps.
	TypeVerdict = DataType{"verdict", typeVerdict, 16, ByteOrderInvalid}
)

var knownTypes = []DataType{TypeIPv4Addr, TypeIPv6Addr, TypeEtherAddr, TypeEtherType, TypeInetProto,
	TypeInetService, TypeMark, TypeIfindex, TypeIfname, TypeCTState, TypeInteger, TypeVerdict}

func typeByID(id uint32) (DataType, bool) {
	for _, t := range knownTypes {
		if t.ID == id {
			return t, true
		}
	}
	return DataType{}, false
}

// Concat is a concatenated key or value (`ipv4_addr . inet_service`): one
// Go value per field of the set's key types.
type Concat []any

// Range is an inclusive range of values of one type (`80-90`,
// `192.0.2.1-192.0.2.9`), for interval sets.
type Range struct{ From, To any }

// encodeValue converts v to the wire bytes of type t (unpadded).
func encodeValue(t DataType, v any) ([]byte, error) {
	bad := func() error {
		return fmt.Errorf("%w: value %v (%T) does not fit type %v", ErrInvalid, v, v, t)
	}
	if b, ok := v.([]byte); ok {
		if uint32(len(b)) != t.Len {
			return nil, fmt.Errorf("%w: %d-byte value for %d-byte type %v", ErrInvalid, len(b), t.Len, t)
		}
		return b, nil
	}
	switch t.ID {
	case typeIPAddr, typeIP6Addr:
		a, ok := v.(netip.Addr)
		if !ok || (t.ID == typeIPAddr) != a.Is4() {
			return nil, bad()
		}
		if t.ID == typeIP6Addr && a.Zone() != "" {
			return nil, bad()
		}
		s := a.AsSlice()
		return s, nil
	case typeIfname:
		s, ok := v.(string)
		if !ok || s == "" || len(s) > 15 || indexNUL([]byte(s)) >= 0 {
			return nil, bad()
		}
		b := make([]byte, 16)
		copy(b, s)
		return b, nil
	case typeEtherAddr:
		h, ok := v.(net.HardwareAddr)
		if !ok || len(h) != 6 {
			return nil, bad()
		}
		return []byte(h), nil
	}
	n, ok := toUint(v)
	if !ok {
		return nil, bad()
	}
	switch {
	case t.Len == 1 && n <= 0xff:
		return []byte{byte(n)}, nil
	case t.Len == 2 && n <= 0xffff:
		if t.ByteOrder == BigEndian {
			return binary.BigEndian.AppendUint16(nil, uint16(n)), nil
		}
		return binary.NativeEndian.AppendUint16(nil, uint16(n)), nil
	case t.Len == 4 && n <= 0xffffffff:
		if t.ByteOrder == BigEndian {
			return binary.BigEndian.AppendUint32(nil, uint32(n)), nil
		}
		return binary.NativeEndian.AppendUint32(nil, uint32(n)), nil
	case t.Len == 8:
		if t.ByteOrder == BigEndian {
			return binary.BigEndian.AppendUint64(nil, n), nil
		}
		return binary.NativeEndian.AppendUint64(nil, n), nil
	}
	return nil, bad()
}

func toUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case int:
		return uint64(x), x >= 0
	case int8:
		return uint64(x), x >= 0
	case int16:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	case uint:
		return uint64(x), true
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}

// decodeValue is the inverse of encodeValue; unknown types stay []byte.
func decodeValue(t DataType, b []byte) any {
	if uint32(len(b)) != t.Len {
		return clone(b)
	}
	switch t.ID {
	case typeIPAddr, typeIP6Addr:
		a, _ := netip.AddrFromSlice(b)
		return a
	case typeIfname:
		s := getStr(b)
		if enc, err := encodeValue(t, s); err != nil || string(enc) != string(b) {
			return clone(b) // not a clean NUL-padded name: keep the bytes
		}
		return s
	case typeEtherAddr:
		return net.HardwareAddr(clone(b))
	case typeVerdict:
		return clone(b)
	}
	var order binary.ByteOrder = binary.NativeEndian
	if t.ByteOrder == BigEndian {
		order = binary.BigEndian
	}
	switch t.Len {
	case 1:
		return b[0]
	case 2:
		return order.Uint16(b)
	case 4:
		return order.Uint32(b)
	case 8:
		return order.Uint64(b)
	}
	return clone(b)
}
