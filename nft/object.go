package nft

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
)

// enum nft_object_attributes
const (
	attrObjTable    = 1
	attrObjName     = 2
	attrObjType     = 3
	attrObjData     = 4
	attrObjUse      = 5
	attrObjHandle   = 6
	attrObjPad      = 7
	attrObjUserdata = 8

	attrQuotaBytes    = 1 // NFTA_QUOTA_BYTES
	attrQuotaFlags    = 2 // NFTA_QUOTA_FLAGS
	attrQuotaConsumed = 4 // NFTA_QUOTA_CONSUMED

	udataObjComment = 0 // NFTNL_UDATA_OBJ_COMMENT
)

// ObjType is a stateful object type (NFT_OBJECT_*).
type ObjType uint32

// Object types.
const (
	ObjCounter   ObjType = 1
	ObjQuota     ObjType = 2
	ObjCTHelper  ObjType = 3
	ObjLimit     ObjType = 4
	ObjConnlimit ObjType = 5
	ObjTunnel    ObjType = 6
	ObjCTTimeout ObjType = 7
	ObjSecmark   ObjType = 8
	ObjCTExpect  ObjType = 9
	ObjSynproxy  ObjType = 10
)

func (t ObjType) String() string {
	names := []string{"", "counter", "quota", "ct helper", "limit", "connlimit", "tunnel", "ct timeout", "secmark", "ct expectation", "synproxy"}
	if int(t) < len(names) && t != 0 {
		return names[t]
	}
	return "object(" + strconv.Itoa(int(t)) + ")"
}

// Quota is the state of a quota object.
type Quota struct {
	Bytes    uint64
	Over     bool // NFT_QUOTA_F_INV: `quota over N`
	Consumed uint64
}

// Object is a named stateful object (like `nft add counter inet t c`).
// Counter, quota, limit, connlimit, ct helper, ct timeout, ct expectation,
// synproxy and secmark are typed; other types (tunnel) keep their
// NFTA_OBJ_DATA attributes in Data, which re-encode byte for byte.
type Object struct {
	Family Family
	Table  string
	Name   string
	Type   ObjType

	Counter *Counters // ObjCounter
	Quota   *Quota    // ObjQuota
	// Typed state of the other object types (see object_types.go); at
	// most one is set, matching Type.
	Limit     *Limit     // ObjLimit
	Connlimit *Connlimit // ObjConnlimit
	CTHelper  *CTHelper  // ObjCTHelper
	CTTimeout *CTTimeout // ObjCTTimeout
	CTExpect  *CTExpect  // ObjCTExpect
	Synproxy  *Synproxy  // ObjSynproxy
	Secmark   *Secmark   // ObjSecmark
	// Data is the raw NFTA_OBJ_DATA of types without a typed field, and
	// of listed objects whose data the typed field cannot reproduce
	// exactly.
	Data []byte

	Comment  string
	UserData []byte

	Handle uint64
	Use    uint32

	extra []rawAttr
}

func (o *Object) String() string {
	return fmt.Sprintf("%v %s %s %s", o.Type, o.Family, o.Table, o.Name)
}

func (o *Object) validate() error {
	if !o.Family.valid() {
		return fmt.Errorf("%w: %v: family %v", ErrInvalid, o, o.Family)
	}
	if err := validName("table name", o.Table); err != nil {
		return err
	}
	if err := validName("object name", o.Name); err != nil {
		return err
	}
	if o.Type == 0 {
		return fmt.Errorf("%w: %v: no object type", ErrInvalid, o)
	}
	return o.validateData()
}

// marshal writes the object in dump order (nf_tables_fill_obj_info).
func (o *Object) marshal(e *attr.Writer, withState bool) error {
	e.String(attrObjTable, o.Table)
	e.String(attrObjName, o.Name)
	e.U32(attrObjType, uint32(o.Type))
	if withState {
		e.U64(attrObjHandle, o.Handle)
		e.U32(attrObjUse, o.Use)
	}
	// Requests flag the data nest NLA_F_NESTED as nft does; the kernel
	// dumps it without.
	dataAttr := uint16(attrObjData)
	if !withState {
		dataAttr |= attr.Nested
	}
	switch {
	case o.Type == ObjCounter && o.Counter != nil:
		n := e.Begin(dataAttr)
		e.U64(attrCounterBytes, o.Counter.Bytes)
		e.U64(attrCounterPackets, o.Counter.Packets)
		e.End(n)
	case o.Type == ObjQuota && o.Quota != nil:
		n := e.Begin(dataAttr)
		e.U64(attrQuotaBytes, o.Quota.Bytes)
		e.U64(attrQuotaConsumed, o.Quota.Consumed)
		var f uint32
		if o.Quota.Over {
			f = 1
		}
		e.U32(attrQuotaFlags, f)
		e.End(n)
	case o.Data == nil && o.hasTyped():
		n := e.Begin(dataAttr)
		o.objData(e, !withState)
		e.End(n)
	case o.Data != nil:
		e.Bytes(attrObjData, o.Data)
	case o.Type == ObjCounter:
		n := e.Begin(dataAttr)
		e.End(n)
	}
	ud, err := udataWithComment(o.UserData, udataObjComment, o.Comment)
	if err != nil {
		return fmt.Errorf("%v: %w", o, err)
	}
	if ud != nil {
		e.Bytes(attrObjUserdata, ud)
	}
	putRaw(e, o.extra)
	return nil
}

func (o *Object) unmarshal(f Family, b []byte) error {
	o.Family = f
	var data []byte
	err := attr.Walk(b, func(typ uint16, d []byte) error {
		var err error
		var v uint32
		switch typ & attr.TypeMask {
		case attrObjTable:
			o.Table = getStr(d)
		case attrObjName:
			o.Name = getStr(d)
		case attrObjType:
			v, err = getU32(d)
			o.Type = ObjType(v)
		case attrObjData:
			data = clone(d)
		case attrObjUse:
			o.Use, err = getU32(d)
		case attrObjHandle:
			o.Handle, err = getU64(d)
		case attrObjUserdata:
			o.UserData = clone(d)
			o.Comment = udataComment(d, udataObjComment)
		case attrObjPad:
		default:
			o.extra = append(o.extra, rawAttr{typ, clone(d)})
		}
		return err
	})
	if err != nil || data == nil {
		return err
	}
	o.Data = data
	// Typed views only when they re-encode to the same bytes.
	switch o.Type {
	case ObjCounter:
		c := &Counters{}
		_ = attr.Walk(data, func(t uint16, d []byte) error {
			switch t & attr.TypeMask {
			case attrCounterBytes:
				c.Bytes, _ = getU64(d)
			case attrCounterPackets:
				c.Packets, _ = getU64(d)
			}
			return nil
		})
		o.Counter = c
	case ObjQuota:
		q := &Quota{}
		_ = attr.Walk(data, func(t uint16, d []byte) error {
			switch t & attr.TypeMask {
			case attrQuotaBytes:
				q.Bytes, _ = getU64(d)
			case attrQuotaFlags:
				v, _ := getU32(d)
				q.Over = v&1 != 0
			case attrQuotaConsumed:
				q.Consumed, _ = getU64(d)
			}
			return nil
		})
		o.Quota = q
	}
	if o.Type != ObjCounter && o.Type != ObjQuota {
		if o.typedData(data) {
			o.Data = nil
		}
		return nil
	}
	if o.Counter != nil || o.Quota != nil {
		var e attr.Writer
		tmp := *o
		tmp.Data = nil
		tmp.extra, tmp.UserData, tmp.Comment = nil, nil, ""
		if tmp.marshal(&e, false) == nil && !bytesHasData(e.Buf, data) {
			o.Counter, o.Quota = nil, nil
		} else {
			o.Data = nil
		}
	}
	return nil
}

// hasTyped reports whether one of the typed fields beyond counter and
// quota is set.
func (o *Object) hasTyped() bool {
	return o.Limit != nil || o.Connlimit != nil || o.CTHelper != nil || o.CTTimeout != nil ||
		o.CTExpect != nil || o.Synproxy != nil || o.Secmark != nil
}

// bytesHasData reports whether the encoded object carries data as its
// NFTA_OBJ_DATA payload.
func bytesHasData(encoded, data []byte) bool {
	found := false
	_ = attr.Walk(encoded, func(t uint16, d []byte) error {
		if t&attr.TypeMask == attrObjData && string(d) == string(data) {
			found = true
		}
		return nil
	})
	return found
}

func (b *Batch) objOp(verb string, cmd uint8, flags netlink.HeaderFlags, o *Object, state bool) {
	op := op{verb: verb, kind: "object", cmd: cmd, flags: flags, family: o.Family, obj: o}
	op.encode = func(e *attr.Writer) error {
		if err := o.validate(); err != nil {
			return err
		}
		if !state {
			e.String(attrObjTable, o.Table)
			e.String(attrObjName, o.Name)
			e.U32(attrObjType, uint32(o.Type))
			return nil
		}
		return o.marshal(e, false)
	}
	if state {
		op.echo = func(a []byte) {
			var got Object
			if got.unmarshal(o.Family, a) == nil && got.Handle != 0 {
				o.Handle = got.Handle
			}
		}
	}
	b.add(op)
}

// AddObject adds a stateful object (like `nft add counter|quota|limit ...`).
func (b *Batch) AddObject(o *Object) { b.objOp("add", msgNewObj, netlink.Create, o, true) }

// CreateObject adds o and fails with EEXIST if it exists.
func (b *Batch) CreateObject(o *Object) {
	b.objOp("create", msgNewObj, netlink.Create|netlink.Excl, o, true)
}

// DeleteObject deletes an unreferenced object (like `nft delete counter`).
func (b *Batch) DeleteObject(o *Object) { b.objOp("delete", msgDelObj, 0, o, false) }

// DestroyObject deletes o if it exists (Linux 6.3).
func (b *Batch) DestroyObject(o *Object) { b.objOp("destroy", msgDestroyObj, 0, o, false) }

func decodeObject(f Family, a []byte) (*Object, error) {
	o := &Object{}
	return o, o.unmarshal(f, a)
}

// AllObjects streams the stateful objects of family (FamilyUnspec: all),
// of one table when table is not empty (like `nft list counters`...).
func (c *Conn) AllObjects(ctx context.Context, family Family, table string) iter.Seq2[*Object, error] {
	return c.objects(ctx, msgGetObj, family, table)
}

// ResetObjects is AllObjects that also zeroes counters and quotas (like
// `nft reset counters`).
func (c *Conn) ResetObjects(ctx context.Context, family Family, table string) iter.Seq2[*Object, error] {
	return c.objects(ctx, msgGetObjReset, family, table)
}

func (c *Conn) objects(ctx context.Context, cmd uint8, family Family, table string) iter.Seq2[*Object, error] {
	var e attr.Writer
	if table != "" {
		e.String(attrObjTable, table)
	}
	all := dump(c, ctx, "list objects", cmd, msgNewObj, family, e.Buf, decodeObject)
	return func(yield func(*Object, error) bool) {
		for o, err := range all {
			if err == nil && table != "" && o.Table != table {
				continue
			}
			if !yield(o, err) {
				return
			}
		}
	}
}

// ListObjects collects AllObjects.
func (c *Conn) ListObjects(ctx context.Context, family Family, table string) ([]*Object, error) {
	return collect(func() iter.Seq2[*Object, error] { return c.AllObjects(ctx, family, table) })
}

// GetObject returns one object (like `nft list counter FAMILY TABLE NAME`).
func (c *Conn) GetObject(ctx context.Context, family Family, table, name string, typ ObjType) (*Object, error) {
	o := &Object{Family: family, Table: table, Name: name, Type: typ}
	if err := o.validate(); err != nil {
		return nil, err
	}
	var e attr.Writer
	e.String(attrObjTable, table)
	e.String(attrObjName, name)
	e.U32(attrObjType, uint32(typ))
	return get(c, ctx, "get object", o.String(), msgGetObj, msgNewObj, family, e.Buf, decodeObject)
}
