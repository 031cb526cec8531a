package nft

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
)

// enum nft_set_attributes
const (
	attrSetTable      = 1
	attrSetName       = 2
	attrSetFlags      = 3
	attrSetKeyType    = 4
	attrSetKeyLen     = 5
	attrSetDataType   = 6
	attrSetDataLen    = 7
	attrSetPolicy     = 8
	attrSetDesc       = 9
	attrSetID         = 10
	attrSetTimeout    = 11
	attrSetGCInterval = 12
	attrSetUserdata   = 13
	attrSetPad        = 14
	attrSetObjType    = 15
	attrSetHandle     = 16
	attrSetExpr       = 17
	attrSetExprs      = 18

	attrSetDescSize   = 1 // NFTA_SET_DESC_SIZE
	attrSetDescConcat = 2 // NFTA_SET_DESC_CONCAT
	attrSetFieldLen   = 1 // NFTA_SET_FIELD_LEN
	attrListElem      = 1 // NFTA_LIST_ELEM

	nftDataVerdictType = 0xffffff00 // NFT_DATA_VERDICT
)

// nftnl set udata TLV types (libnftnl udata.h, nftnl_udata_set_types).
const (
	udataSetKeyByteOrder  = 0
	udataSetDataByteOrder = 1
	udataSetMerge         = 2
	udataSetComment       = 7
)

// SetFlags are NFT_SET_* flags.
type SetFlags uint32

// Set flags. Map is implied by a value type; Concat by several key types;
// Anonymous by Set.Anonymous.
const (
	SetAnonymous SetFlags = 0x1   // NFT_SET_ANONYMOUS
	SetConstant  SetFlags = 0x2   // NFT_SET_CONSTANT
	SetInterval  SetFlags = 0x4   // NFT_SET_INTERVAL
	SetMap       SetFlags = 0x8   // NFT_SET_MAP
	SetTimeout   SetFlags = 0x10  // NFT_SET_TIMEOUT
	SetEval      SetFlags = 0x20  // NFT_SET_EVAL: `flags dynamic`
	SetObject    SetFlags = 0x40  // NFT_SET_OBJECT
	SetConcat    SetFlags = 0x80  // NFT_SET_CONCAT
	SetExpr      SetFlags = 0x100 // NFT_SET_EXPR
)

// SetDynamic is nft's name for SetEval: the set is updated from the packet
// path.
const SetDynamic = SetEval

// SetPolicy is the set's memory/performance trade-off.
type SetPolicy uint32

// Set policies (NFT_SET_POL_*).
const (
	SetPolicyPerformance SetPolicy = 0
	SetPolicyMemory      SetPolicy = 1
)

// Set is an nf_tables set or map (like `nft add set inet t s '{ type
// ipv4_addr; flags interval; }'` or `nft add map ...`).
type Set struct {
	Family Family
	Table  string
	Name   string

	// KeyType is the key's type, several for a concatenation
	// (`ipv4_addr . inet_service`).
	KeyType []DataType
	// DataType makes the set a map (TypeVerdict: a verdict map). Empty
	// (ID 0): a plain set.
	DataType DataType

	Flags      SetFlags
	Timeout    time.Duration // default element timeout (SetTimeout)
	GCInterval time.Duration
	Size       uint32 // maximum number of elements; 0: unlimited
	Policy     SetPolicy
	// Counter gives every element a counter (`counter` in the set body).
	Counter bool
	// AutoMerge merges overlapping and adjacent intervals on add, like
	// nft's `auto-merge`; without it overlaps are an error.
	AutoMerge bool
	Comment   string
	// UserData is the raw NFTA_SET_USERDATA (key byte order, typeof...);
	// on encode the byte orders, merge flag and comment are set from the
	// fields above and other TLVs (e.g. typeof) are kept.
	UserData []byte

	// KeyTypeof and DataTypeof are the set's `typeof` declaration (like
	// `typeof ip saddr . tcp dport`), stored in the user data as nft
	// stores it so that `nft list` prints it. When KeyType (DataType) is
	// not given, it is taken from the fields' Type. Listed sets have them
	// filled in when the user data holds a typeof nfkit recognises.
	KeyTypeof  []Typeof
	DataTypeof []Typeof

	// Anonymous sets belong to the rule that references them by ID in the
	// same batch (`{ 22, 80 }` in a rule); Name defaults to "__set%d".
	Anonymous bool
	// ID identifies the set within a batch (NFTA_SET_ID), set
	// automatically by AddSet when zero; lookups reference it.
	ID uint32

	// Set by the kernel.
	Handle uint64

	keyLen    uint32
	dataLen   uint32
	fieldLens []uint32
	objType   uint32
	exprs     []byte // raw NFTA_SET_EXPR / EXPRESSIONS
	exprsAttr uint16
	hasDesc   bool
	hasPolicy bool
	listed    bool // decoded from the kernel: encode exactly what was read
	extra     []rawAttr
}

func (s *Set) String() string { return fmt.Sprintf("set %s %s %s", s.Family, s.Table, s.Name) }

// IsMap reports whether s maps keys to values.
func (s *Set) IsMap() bool { return s.DataType.ID != 0 || s.Flags&SetMap != 0 }

func (s *Set) validate() error {
	if !s.Family.valid() {
		return fmt.Errorf("%w: %v: family %v", ErrInvalid, s, s.Family)
	}
	if err := validName("table name", s.Table); err != nil {
		return err
	}
	if s.Anonymous && s.Name == "" {
		s.Name = "__set%d"
	}
	if err := validName("set name", s.Name); err != nil {
		return err
	}
	if len(s.KeyType) == 0 && len(s.KeyTypeof) > 0 {
		kt, ok := typeofKeyTypes(s.KeyTypeof)
		if !ok {
			return fmt.Errorf("%w: %v: typeof %v without a key type", ErrInvalid, s, s.KeyTypeof)
		}
		s.KeyType = kt
	}
	if s.DataType.ID == 0 && len(s.DataTypeof) == 1 && s.DataTypeof[0].Type.Len != 0 {
		s.DataType = s.DataTypeof[0].Type
	}
	if len(s.KeyTypeof) > 0 && len(s.KeyTypeof) != len(s.KeyType) {
		return fmt.Errorf("%w: %v: %d typeof fields for %d key types", ErrInvalid, s, len(s.KeyTypeof), len(s.KeyType))
	}
	for _, f := range append(s.KeyTypeof[:len(s.KeyTypeof):len(s.KeyTypeof)], s.DataTypeof...) {
		switch f.Kind {
		case TypeofPayload, TypeofMeta, TypeofCT:
		default:
			return fmt.Errorf("%w: %v: typeof field %v of kind %d", ErrInvalid, s, f, f.Kind)
		}
	}
	if len(s.DataTypeof) > 1 || (len(s.DataTypeof) == 1 && !s.IsMap()) {
		return fmt.Errorf("%w: %v: data typeof %v on a set that is not a map, or several fields", ErrInvalid, s, s.DataTypeof)
	}
	if len(s.KeyType) == 0 && s.keyLen == 0 {
		return fmt.Errorf("%w: %v: no key type", ErrInvalid, s)
	}
	for _, t := range s.KeyType {
		if t.Len == 0 || t.ID == typeVerdict {
			return fmt.Errorf("%w: %v: key type %v", ErrInvalid, s, t)
		}
	}
	if len(s.KeyType) > 1 && len(s.KeyType)*typeBits > 32 {
		return fmt.Errorf("%w: %v: %d concatenated key types (max 5)", ErrInvalid, s, len(s.KeyType))
	}
	if s.Timeout < 0 || s.Timeout%time.Millisecond != 0 {
		return fmt.Errorf("%w: %v: timeout %v (whole milliseconds)", ErrInvalid, s, s.Timeout)
	}
	return nil
}

// keyLength is the key length on the wire: each field of a concatenation
// takes a multiple of 4 bytes (one or more 32-bit registers).
func (s *Set) keyLength() uint32 {
	if len(s.KeyType) == 0 {
		return s.keyLen
	}
	if len(s.KeyType) == 1 {
		return s.KeyType[0].Len
	}
	var n uint32
	for _, t := range s.KeyType {
		n += (t.Len + 3) &^ 3
	}
	return n
}

func (s *Set) keyTypeID() uint32 {
	var id uint32
	for _, t := range s.KeyType {
		id = id<<typeBits | t.ID
	}
	return id
}

func (s *Set) flags() SetFlags {
	f := s.Flags
	if s.listed { // exactly what the kernel reported
		return f
	}
	if s.Anonymous {
		f |= SetAnonymous
	}
	if s.DataType.ID != 0 {
		f |= SetMap
	}
	if len(s.KeyType) > 1 && f&SetInterval != 0 {
		f |= SetConcat // nft marks interval concatenations only
	}
	if s.Timeout != 0 {
		f |= SetTimeout
	}
	return f
}

func (s *Set) udata() ([]byte, error) {
	raw := s.UserData
	put := func(typ uint8, v uint32) {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], v)
		raw = udataSet(raw, typ, b[:])
	}
	if s.UserData == nil && !s.listed { // a new set: write what nft writes
		if len(s.KeyType) == 1 {
			put(udataSetKeyByteOrder, uint32(s.KeyType[0].ByteOrder))
		} else {
			put(udataSetKeyByteOrder, 0)
		}
		if s.DataType.ID != 0 {
			put(udataSetDataByteOrder, uint32(s.DataType.ByteOrder))
		}
	}
	if s.AutoMerge {
		put(udataSetMerge, 1)
	} else {
		raw = udataDel(raw, udataSetMerge)
	}
	if len(s.KeyTypeof) > 0 {
		raw = udataSet(raw, udataSetKeyTypeof, typeofUdata(s.KeyTypeof))
	} else if len(s.KeyType) > 1 && s.UserData == nil && !s.listed {
		// nft 1.0.6 stores a concatenation declared with `type a . b`
		// as a typeof concat without fields (measured); it prints the
		// key types all the same.
		raw = udataSet(raw, udataSetKeyTypeof, append(udataU32(udataTypeofExpr, typeofKindConcat), udataTLV(udataTypeofData, nil)...))
	}
	if len(s.DataTypeof) > 0 {
		raw = udataSet(raw, udataSetDataTypeof, typeofUdata(s.DataTypeof))
	}
	if s.DataType.ID != 0 && !s.listed && !udataHas(raw, udataSetDataIntvl) {
		// nft 1.0.6 writes "data is not an interval" for every map, with
		// or without typeof (measured); the TLVs stay in type order.
		put(udataSetDataIntvl, 0)
	}
	return udataWithComment(raw, udataSetComment, s.Comment)
}

// marshal writes the set in kernel dump order (nf_tables_fill_set).
func (s *Set) marshal(e *attr.Writer, withState bool) error {
	e.String(attrSetTable, s.Table)
	e.String(attrSetName, s.Name)
	if withState || s.Handle != 0 {
		e.U64(attrSetHandle, s.Handle)
	}
	if f := s.flags(); f != 0 {
		e.U32(attrSetFlags, uint32(f))
	}
	e.U32(attrSetKeyType, s.keyTypeID())
	e.U32(attrSetKeyLen, s.keyLength())
	if s.DataType.ID != 0 {
		id := s.DataType.ID
		if id == typeVerdict {
			id = nftDataVerdictType
		}
		e.U32(attrSetDataType, id)
		dl := s.DataType.Len
		if s.dataLen != 0 {
			dl = s.dataLen
		}
		e.U32(attrSetDataLen, dl)
	}
	if s.objType != 0 {
		e.U32(attrSetObjType, s.objType)
	}
	if s.Timeout != 0 {
		e.U64(attrSetTimeout, uint64(s.Timeout/time.Millisecond))
	}
	if s.GCInterval != 0 {
		e.U32(attrSetGCInterval, uint32(s.GCInterval/time.Millisecond))
	}
	if s.Policy != SetPolicyPerformance || s.hasPolicy {
		e.U32(attrSetPolicy, uint32(s.Policy))
	}
	ud, err := s.udata()
	if err != nil {
		return fmt.Errorf("%v: %w", s, err)
	}
	if ud != nil {
		e.Bytes(attrSetUserdata, ud)
	}
	concatDesc := !s.listed && len(s.KeyType) > 1 && s.Flags&SetInterval != 0
	if s.hasDesc || s.Size != 0 || concatDesc {
		d := e.Begin(attrSetDesc)
		if s.Size != 0 {
			e.U32(attrSetDescSize, s.Size)
		}
		lens := s.fieldLens
		if lens == nil && concatDesc {
			for _, t := range s.KeyType {
				lens = append(lens, t.Len)
			}
		}
		if len(lens) > 0 {
			c := e.Begin(attrSetDescConcat)
			for _, l := range lens {
				f := e.Begin(attrListElem)
				e.U32(attrSetFieldLen, l)
				e.End(f)
			}
			e.End(c)
		}
		e.End(d)
	}
	putRaw(e, s.extra) // newer kernels' attributes come before the expressions
	switch {
	case s.exprs != nil:
		e.Bytes(s.exprsAttr, s.exprs)
	case s.Counter:
		x := e.Begin(attrSetExpr)
		e.String(1, "counter") // NFTA_EXPR_NAME
		e.End(x)
	}
	if s.ID != 0 && !withState {
		e.U32(attrSetID, s.ID)
	}
	return nil
}

func (s *Set) unmarshal(family Family, b []byte) error {
	s.Family = family
	var keyType, dataType, dataLen uint32
	err := attr.Walk(b, func(typ uint16, d []byte) error {
		var err error
		var v uint32
		var v64 uint64
		switch typ & attr.TypeMask {
		case attrSetTable:
			s.Table = getStr(d)
		case attrSetName:
			s.Name = getStr(d)
		case attrSetHandle:
			s.Handle, err = getU64(d)
		case attrSetFlags:
			v, err = getU32(d)
			s.Flags = SetFlags(v)
		case attrSetKeyType:
			keyType, err = getU32(d)
		case attrSetKeyLen:
			s.keyLen, err = getU32(d)
		case attrSetDataType:
			dataType, err = getU32(d)
		case attrSetDataLen:
			dataLen, err = getU32(d)
		case attrSetObjType:
			s.objType, err = getU32(d)
		case attrSetTimeout:
			v64, err = getU64(d)
			s.Timeout = time.Duration(v64) * time.Millisecond
		case attrSetGCInterval:
			v, err = getU32(d)
			s.GCInterval = time.Duration(v) * time.Millisecond
		case attrSetPolicy:
			v, err = getU32(d)
			s.Policy, s.hasPolicy = SetPolicy(v), true
		case attrSetUserdata:
			s.UserData = clone(d)
			s.Comment = udataComment(d, udataSetComment)
			if m, ok := udataGet(d, udataSetMerge); ok && len(m) == 4 && binary.NativeEndian.Uint32(m) != 0 {
				s.AutoMerge = true
			}
			if v, ok := udataGet(d, udataSetKeyTypeof); ok {
				s.KeyTypeof, _ = parseTypeof(v, 0)
			}
			if v, ok := udataGet(d, udataSetDataTypeof); ok {
				s.DataTypeof, _ = parseTypeof(v, 0)
			}
		case attrSetDesc:
			s.hasDesc = true
			err = attr.Walk(d, func(t uint16, d []byte) error {
				switch t & attr.TypeMask {
				case attrSetDescSize:
					var err error
					s.Size, err = getU32(d)
					return err
				case attrSetDescConcat:
					s.fieldLens = []uint32{}
					return attr.Walk(d, func(_ uint16, d []byte) error {
						return attr.Walk(d, func(t uint16, d []byte) error {
							if t&attr.TypeMask == attrSetFieldLen {
								l, err := getU32(d)
								s.fieldLens = append(s.fieldLens, l)
								return err
							}
							return nil
						})
					})
				}
				return nil
			})
		case attrSetExpr, attrSetExprs:
			s.exprs, s.exprsAttr = clone(d), typ
			s.Counter = strings.Contains(string(d), "counter\x00")
		case attrSetID:
			s.ID, err = getU32(d)
		case attrSetPad:
		default:
			s.extra = append(s.extra, rawAttr{typ, clone(d)})
		}
		return err
	})
	if err != nil {
		return err
	}
	s.listed = true
	s.Anonymous = s.Flags&SetAnonymous != 0
	s.KeyType = keyTypes(keyType, s.keyLen, s.fieldLens, s.UserData)
	if s.Flags&SetMap != 0 {
		if dataType == nftDataVerdictType {
			s.DataType = TypeVerdict
		} else if t, ok := typeByID(dataType); ok && t.Len == dataLen {
			s.DataType = t
		} else {
			s.DataType = DataType{ID: dataType, Len: dataLen}
		}
		s.dataLen = dataLen
	}
	return nil
}

// keyTypes splits a (possibly concatenated) key type id into its types.
func keyTypes(id, keyLen uint32, fieldLens []uint32, ud []byte) []DataType {
	var ids []uint32
	for x := id; x != 0; x >>= typeBits {
		ids = append([]uint32{x & (1<<typeBits - 1)}, ids...)
	}
	if len(ids) <= 1 || (fieldLens != nil && len(fieldLens) != len(ids)) {
		t, ok := typeByID(id)
		if !ok || t.Len != keyLen {
			bo := ByteOrderInvalid
			if v, ok := udataGet(ud, udataSetKeyByteOrder); ok && len(v) == 4 {
				bo = ByteOrder(binary.NativeEndian.Uint32(v))
			}
			t = DataType{ID: id, Len: keyLen, ByteOrder: bo}
		}
		return []DataType{t}
	}
	out := make([]DataType, len(ids))
	for i, x := range ids {
		t, ok := typeByID(x)
		if !ok || (fieldLens != nil && t.Len != fieldLens[i]) {
			l := uint32(0)
			if fieldLens != nil {
				l = fieldLens[i]
			}
			t = DataType{ID: x, Len: l}
		}
		out[i] = t
	}
	return out
}

// udataSet sets TLV typ to v, in place if present, appended otherwise.
func udataSet(raw []byte, typ uint8, v []byte) []byte {
	if cur, ok := udataGet(raw, typ); ok && string(cur) == string(v) {
		return raw
	}
	out := udataDel(raw, typ)
	out = append(out, typ, byte(len(v)))
	return append(out, v...)
}

func udataDel(raw []byte, typ uint8) []byte {
	if !udataHas(raw, typ) {
		return raw
	}
	var out []byte
	for b := raw; len(b) >= 2 && 2+int(b[1]) <= len(b); b = b[2+int(b[1]):] {
		if b[0] != typ {
			out = append(out, b[:2+int(b[1])]...)
		}
	}
	return out
}
