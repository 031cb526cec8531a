package nft

import (
	"context"
	"fmt"
	"iter"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
)

// enum nft_flowtable_attributes and nft_flowtable_hook_attributes
const (
	attrFlowtableTable  = 1 // NFTA_FLOWTABLE_TABLE
	attrFlowtableName   = 2 // NFTA_FLOWTABLE_NAME
	attrFlowtableHook   = 3 // NFTA_FLOWTABLE_HOOK
	attrFlowtableUse    = 4 // NFTA_FLOWTABLE_USE
	attrFlowtableHandle = 5 // NFTA_FLOWTABLE_HANDLE
	attrFlowtablePad    = 6 // NFTA_FLOWTABLE_PAD
	attrFlowtableFlags  = 7 // NFTA_FLOWTABLE_FLAGS

	attrFlowtableHookNum      = 1 // NFTA_FLOWTABLE_HOOK_NUM
	attrFlowtableHookPriority = 2 // NFTA_FLOWTABLE_HOOK_PRIORITY
	attrFlowtableHookDevs     = 3 // NFTA_FLOWTABLE_HOOK_DEVS
)

// FlowtableFlags are enum nft_flowtable_flags.
type FlowtableFlags uint32

const (
	// FlowtableHWOffload (NFT_FLOWTABLE_HW_OFFLOAD) offloads flows to the
	// NIC: nft's `flags offload`.
	FlowtableHWOffload FlowtableFlags = 0x1
	// FlowtableCounter (NFT_FLOWTABLE_COUNTER) counts offloaded flows in
	// conntrack: nft's `counter`.
	FlowtableCounter FlowtableFlags = 0x2
)

// Flowtable is an nf_tables flowtable: a fast path for established flows
// that a rule's `flow add @NAME` (expr.FlowOffload) puts there, bypassing
// the forward path on the listed devices (like `nft add flowtable inet t
// ft '{ hook ingress priority 0; devices = { eth0, eth1 }; }'`).
//
// The hook is always ingress (the kernel accepts no other); the devices
// must exist in the namespace when the batch commits.
type Flowtable struct {
	Family   Family
	Table    string
	Name     string
	Priority int32
	Devices  []string
	Flags    FlowtableFlags

	// Set by the kernel.
	Handle uint64
	Use    uint32

	hookNum   uint32   // NFTA_FLOWTABLE_HOOK_NUM as listed (0: ingress)
	order     []uint16 // top-level attribute order of a listed flowtable
	extra     []rawAttr
	hookExtra []rawAttr
}

func (f *Flowtable) String() string {
	return fmt.Sprintf("flowtable %s %s %s", f.Family, f.Table, f.Name)
}

func (f *Flowtable) validate() error {
	if err := f.validateRef(); err != nil {
		return err
	}
	switch f.Family {
	case FamilyIPv4, FamilyIPv6, FamilyINet:
	default:
		return fmt.Errorf("%w: %v: family %v (flowtables exist in ip, ip6 and inet)", ErrInvalid, f, f.Family)
	}
	if f.Flags&^(FlowtableHWOffload|FlowtableCounter) != 0 {
		return fmt.Errorf("%w: %v: flags %#x", ErrInvalid, f, uint32(f.Flags))
	}
	seen := map[string]bool{}
	for _, d := range f.Devices {
		if d == "" || len(d) > 15 || indexNUL([]byte(d)) >= 0 {
			return fmt.Errorf("%w: %v: device name %q (1 to 15 bytes)", ErrInvalid, f, d)
		}
		if seen[d] {
			return fmt.Errorf("%w: %v: device %q listed twice", ErrInvalid, f, d)
		}
		seen[d] = true
	}
	return nil
}

// validateRef checks what delete, destroy and get need.
func (f *Flowtable) validateRef() error {
	if !f.Family.valid() {
		return fmt.Errorf("%w: %v: family %v", ErrInvalid, f, f.Family)
	}
	if err := validName("table name", f.Table); err != nil {
		return err
	}
	if f.Name == "" && f.Handle != 0 {
		return nil
	}
	return validName("flowtable name", f.Name)
}

// marshal writes the flowtable. A listed flowtable is written in the order
// its attributes were dumped (kernels differ: older ones put USE before
// HANDLE and have no FLAGS), without NLA_F_NESTED, so it re-encodes to the
// same bytes; a new one exactly as nft 1.0.6 sends it: table, name, hook
// (nests flagged NLA_F_NESTED), flags (also when zero). withState adds
// handle and use.
func (f *Flowtable) marshal(e *attr.Writer, withState bool) {
	order := f.order
	if order == nil {
		order = []uint16{attrFlowtableTable, attrFlowtableName, attrFlowtableHandle, attrFlowtableUse,
			attrFlowtableHook, attrFlowtableFlags}
	}
	for _, typ := range order {
		switch typ {
		case attrFlowtableTable:
			e.String(attrFlowtableTable, f.Table)
		case attrFlowtableName:
			e.String(attrFlowtableName, f.Name)
		case attrFlowtableHandle:
			if withState || f.Handle != 0 {
				e.U64(attrFlowtableHandle, f.Handle)
			}
		case attrFlowtableUse:
			if withState {
				e.U32(attrFlowtableUse, f.Use)
			}
		case attrFlowtableFlags:
			e.U32(attrFlowtableFlags, uint32(f.Flags))
		case attrFlowtableHook:
			f.marshalHook(e)
		}
	}
	putRaw(e, f.extra)
}

func (f *Flowtable) marshalHook(e *attr.Writer) {
	var nested uint16
	if f.order == nil {
		nested = attr.Nested
	}
	h := e.Begin(attrFlowtableHook | nested)
	e.U32(attrFlowtableHookNum, f.hookNum)
	e.U32(attrFlowtableHookPriority, uint32(f.Priority))
	if len(f.Devices) > 0 || f.order != nil {
		d := e.Begin(attrFlowtableHookDevs | nested)
		for _, dev := range f.Devices {
			e.String(attrDeviceName, dev)
		}
		e.End(d)
	}
	putRaw(e, f.hookExtra)
	e.End(h)
}

func (f *Flowtable) unmarshal(family Family, b []byte) error {
	f.Family = family
	f.order = []uint16{}
	it := attr.NewIter(b)
	for it.Next() {
		typ, d := it.Kind(), it.Data()
		var err error
		switch typ {
		case attrFlowtableTable:
			f.Table = getStr(d)
		case attrFlowtableName:
			f.Name = getStr(d)
		case attrFlowtableHandle:
			f.Handle, err = getU64(d)
		case attrFlowtableUse:
			f.Use, err = getU32(d)
		case attrFlowtableFlags:
			var v uint32
			v, err = getU32(d)
			f.Flags = FlowtableFlags(v)
		case attrFlowtableHook:
			err = f.unmarshalHook(d)
		case attrFlowtablePad:
			continue
		default:
			f.extra = append(f.extra, rawAttr{it.Type(), clone(d)})
			continue
		}
		if err != nil {
			return err
		}
		f.order = append(f.order, typ)
	}
	return it.Err()
}

func (f *Flowtable) unmarshalHook(b []byte) error {
	// A repeated hook nest replaces the earlier one, as a repeated scalar
	// does: marshal writes the hook once per occurrence in order, so
	// accumulating the unknown attributes of every nest would grow them
	// on each decode/encode round.
	f.hookNum, f.Priority, f.Devices, f.hookExtra = 0, 0, nil, nil
	it := attr.NewIter(b)
	for it.Next() {
		var err error
		switch it.Kind() {
		case attrFlowtableHookNum:
			f.hookNum, err = getU32(it.Data())
		case attrFlowtableHookPriority:
			var v uint32
			v, err = getU32(it.Data())
			f.Priority = int32(v)
		case attrFlowtableHookDevs:
			f.Devices = []string{}
			err = attr.Walk(it.Data(), func(t uint16, d []byte) error {
				if t&attr.TypeMask != attrDeviceName {
					return fmt.Errorf("flowtable device list: attribute %d", t&attr.TypeMask)
				}
				f.Devices = append(f.Devices, getStr(d))
				return nil
			})
		default:
			f.hookExtra = append(f.hookExtra, rawAttr{it.Type(), clone(it.Data())})
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

func (b *Batch) flowtableOp(verb string, cmd uint8, flags netlink.HeaderFlags, f *Flowtable, state bool) {
	o := op{verb: verb, kind: "flowtable", cmd: cmd, flags: flags, family: f.Family, obj: f}
	o.encode = func(e *attr.Writer) error {
		if !state {
			if err := f.validateRef(); err != nil {
				return err
			}
			e.String(attrFlowtableTable, f.Table)
			if f.Name != "" {
				e.String(attrFlowtableName, f.Name)
			} else {
				e.U64(attrFlowtableHandle, f.Handle)
			}
			if len(f.Devices) > 0 { // delete only these devices
				c := *f
				c.order = nil
				c.marshalHook(e)
			}
			return nil
		}
		if err := f.validate(); err != nil {
			return err
		}
		c := *f
		c.order = nil // a request is written the way nft writes it
		c.Handle = 0
		c.marshal(e, false)
		return nil
	}
	if state {
		o.echo = func(a []byte) {
			var got Flowtable
			if got.unmarshal(f.Family, a) == nil && got.Handle != 0 {
				f.Handle = got.Handle
			}
		}
	}
	b.add(o)
}

// AddFlowtable adds f, or adds f.Devices to an existing flowtable of that
// name (like `nft add flowtable inet t ft '{ hook ingress priority 0;
// devices = { eth0 }; }'`).
func (b *Batch) AddFlowtable(f *Flowtable) {
	b.flowtableOp("add", msgNewFlowtable, netlink.Create, f, true)
}

// CreateFlowtable adds f and fails with EEXIST if it exists (like `nft
// create flowtable`).
func (b *Batch) CreateFlowtable(f *Flowtable) {
	b.flowtableOp("create", msgNewFlowtable, netlink.Create|netlink.Excl, f, true)
}

// DeleteFlowtable deletes an unreferenced flowtable by name, or by handle
// when Name is empty (like `nft delete flowtable inet t ft`). With Devices
// set, only those devices are removed from it (like `nft delete flowtable
// inet t ft '{ devices = { eth1 }; }'`; Debian's 6.1 refuses it with EOPNOTSUPP).
func (b *Batch) DeleteFlowtable(f *Flowtable) {
	b.flowtableOp("delete", msgDelFlowtable, 0, f, false)
}

// DestroyFlowtable deletes f if it exists (like `nft destroy flowtable`,
// Linux 6.3).
func (b *Batch) DestroyFlowtable(f *Flowtable) {
	b.flowtableOp("destroy", msgDestroyFlowtable, 0, f, false)
}

func decodeFlowtable(fam Family, a []byte) (*Flowtable, error) {
	f := &Flowtable{}
	return f, f.unmarshal(fam, a)
}

// AllFlowtables streams the flowtables of family (FamilyUnspec: all), of
// one table when table is not empty, like `nft list flowtables`.
func (c *Conn) AllFlowtables(ctx context.Context, family Family, table string) iter.Seq2[*Flowtable, error] {
	var e attr.Writer
	if table != "" {
		e.String(attrFlowtableTable, table)
	}
	all := dump(c, ctx, "list flowtables", msgGetFlowtable, msgNewFlowtable, family, e.Buf, decodeFlowtable)
	return func(yield func(*Flowtable, error) bool) {
		for f, err := range all {
			if err == nil && table != "" && f.Table != table {
				continue
			}
			if !yield(f, err) {
				return
			}
		}
	}
}

// ListFlowtables collects AllFlowtables.
func (c *Conn) ListFlowtables(ctx context.Context, family Family, table string) ([]*Flowtable, error) {
	return collect(func() iter.Seq2[*Flowtable, error] { return c.AllFlowtables(ctx, family, table) })
}

// GetFlowtable returns one flowtable (like `nft list flowtable FAMILY
// TABLE NAME`). A missing one is an error matching fs.ErrNotExist.
func (c *Conn) GetFlowtable(ctx context.Context, family Family, table, name string) (*Flowtable, error) {
	f := &Flowtable{Family: family, Table: table, Name: name}
	if err := f.validateRef(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("%w: %v: flowtable name is empty", ErrInvalid, f)
	}
	var e attr.Writer
	e.String(attrFlowtableTable, table)
	e.String(attrFlowtableName, name)
	return get(c, ctx, "get flowtable", f.String(), msgGetFlowtable, msgNewFlowtable, family, e.Buf, decodeFlowtable)
}
