package nft

import (
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
)

// Table is an nf_tables table (like `nft add table inet filter`).
type Table struct {
	Family Family
	Name   string
	Flags  TableFlags
	// Comment is kept in the table's user data the way nft writes it
	// (NFTNL_UDATA_TABLE_COMMENT), so `nft list` shows it.
	Comment string
	// UserData is the raw NFTA_TABLE_USERDATA; Comment is merged into it
	// on encode, other TLVs are kept.
	UserData []byte

	// Set by the kernel.
	Handle uint64 // NFTA_TABLE_HANDLE
	Use    uint32 // number of chains, sets, objects... in the table
	Owner  uint32 // netlink port id of the owner (TableOwner)

	extra []rawAttr // attributes this version does not know
}

func (t *Table) String() string { return fmt.Sprintf("table %s %s", t.Family, t.Name) }

func (t *Table) validate() error {
	if !t.Family.valid() {
		return fmt.Errorf("%w: table %q: family %v", ErrInvalid, t.Name, t.Family)
	}
	return validName("table name", t.Name)
}

func validName(field, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%w: %s %.20q... is %d bytes (max %d)", ErrInvalid, field, s, len(s), maxNameLen)
	}
	if indexNUL([]byte(s)) >= 0 {
		return fmt.Errorf("%w: %s %q contains a NUL byte", ErrInvalid, field, s)
	}
	return nil
}

// marshal writes the table's attributes in the order the kernel dumps them
// (nf_tables_fill_table_info), so a listed table re-encodes identically.
// withState adds the kernel-maintained fields (use, handle, owner).
func (t *Table) marshal(e *attr.Writer, withState bool) error {
	e.String(attrTableName, t.Name)
	if withState {
		e.U32(attrTableUse, t.Use)
		e.U64(attrTableHandle, t.Handle)
		e.U32(attrTableFlags, uint32(t.Flags))
	} else {
		if t.Flags != 0 {
			e.U32(attrTableFlags, uint32(t.Flags))
		}
		if t.Handle != 0 {
			e.U64(attrTableHandle, t.Handle)
		}
	}
	ud, err := udataWithComment(t.UserData, udataTableComment, t.Comment)
	if err != nil {
		return fmt.Errorf("%v: %w", t, err)
	}
	if ud != nil {
		e.Bytes(attrTableUserdata, ud)
	}
	if withState && t.Flags&TableOwner != 0 {
		e.U32(attrTableOwner, t.Owner)
	}
	putRaw(e, t.extra)
	return nil
}

func (t *Table) unmarshal(family Family, b []byte) error {
	t.Family = family
	return attr.Walk(b, func(typ uint16, d []byte) error {
		var err error
		switch typ & attr.TypeMask {
		case attrTableName:
			t.Name = getStr(d)
		case attrTableFlags:
			var v uint32
			v, err = getU32(d)
			t.Flags = TableFlags(v)
		case attrTableUse:
			t.Use, err = getU32(d)
		case attrTableHandle:
			t.Handle, err = getU64(d)
		case attrTableUserdata:
			t.UserData = clone(d)
			t.Comment = udataComment(d, udataTableComment)
		case attrTableOwner:
			t.Owner, err = getU32(d)
		case attrTablePad:
		default:
			t.extra = append(t.extra, rawAttr{typ, clone(d)})
		}
		return err
	})
}
