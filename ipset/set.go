package ipset

import (
	"context"

	"github.com/mdlayher/netlink"
)

// encodeCreate builds the body of a create request for s at revision rev.
func (c *Conn) encodeCreate(s *Set, ti *typeInfo, rev uint8) *abuf {
	w := c.newAttrs(128 + len(s.Raw))
	w.String(attrSetName, s.Name)
	w.String(attrTypeName, string(s.Type))
	w.U8(attrRevision, rev)
	w.U8(attrFamily, uint8(ti.effectiveFamily(s.Family)))
	s.appendCreateData(w, false)
	return w
}

// prepareCreate validates s and picks the revision: s.Revision if set,
// otherwise the highest the kernel has for the type and family.
func (c *Conn) prepareCreate(ctx context.Context, s *Set) (*typeInfo, uint8, error) {
	ti, err := s.validate()
	if err != nil {
		return nil, 0, err
	}
	rev := s.Revision
	if rev == 0 {
		_, max, err := c.Revisions(ctx, s.Type, s.Family)
		if err != nil {
			return nil, 0, err
		}
		rev = max
	}
	return ti, rev, nil
}

// Create creates a set; a set of the same name is ErrSetExists
// (fs.ErrExist). Like `ipset create NAME TYPE OPTIONS`.
func (c *Conn) Create(ctx context.Context, s Set) error {
	return c.create(ctx, &s, false)
}

// CreateExist creates a set, or does nothing if an identical set (same
// type, family and options) exists; a different set of that name is
// ErrSetExists. Like `ipset -exist create NAME TYPE OPTIONS`.
func (c *Conn) CreateExist(ctx context.Context, s Set) error {
	return c.create(ctx, &s, true)
}

// createFlags are the netlink flags of a create: the kernel reads "no
// NLM_F_EXCL" as ipset's -exist.
func createFlags(exist bool) netlink.HeaderFlags {
	if exist {
		return netlink.Create
	}
	return netlink.Create | netlink.Excl
}

func (c *Conn) create(ctx context.Context, s *Set, exist bool) error {
	ti, rev, err := c.prepareCreate(ctx, s)
	if err != nil {
		return err
	}
	_, err = c.execute(ctx, cmdCreate, createFlags(exist), c.encodeCreate(s, ti, rev), "create set", s.Name, opOther, ti.kind)
	return err
}

// Destroy destroys a set; a set still referenced by a rule or a list:set
// is ErrSetInUse, a missing one ErrSetNotFound (fs.ErrNotExist). Like
// `ipset destroy NAME`.
func (c *Conn) Destroy(ctx context.Context, name string) error {
	if err := validateName("name", name); err != nil {
		return err
	}
	// Without NLM_F_EXCL the kernel (since 6.x) reads -exist and ignores
	// a missing set; the CLI sends it too.
	return c.nameOp(ctx, cmdDestroy, netlink.Excl, "destroy set", name)
}

// DestroyAll destroys every set not in use. Like `ipset destroy`.
func (c *Conn) DestroyAll(ctx context.Context) error {
	w := c.newAttrs(0)
	_, err := c.execute(ctx, cmdDestroy, 0, w, "destroy all sets", "", opOther, 0)
	return err
}

// Flush removes every entry of a set. Like `ipset flush NAME`.
func (c *Conn) Flush(ctx context.Context, name string) error {
	if err := validateName("name", name); err != nil {
		return err
	}
	return c.nameOp(ctx, cmdFlush, 0, "flush set", name)
}

// FlushAll flushes every set. Like `ipset flush`.
func (c *Conn) FlushAll(ctx context.Context) error {
	w := c.newAttrs(0)
	_, err := c.execute(ctx, cmdFlush, 0, w, "flush all sets", "", opOther, 0)
	return err
}

func (c *Conn) nameOp(ctx context.Context, cmd command, flags netlink.HeaderFlags, op, name string) error {
	w := c.newAttrs(48)
	w.String(attrSetName, name)
	_, err := c.execute(ctx, cmd, flags, w, op, name, opOther, 0)
	return err
}

// Rename renames a set; the new name taken is ErrSetExists. A set in use
// can be renamed (rules follow it). Like `ipset rename FROM TO`.
func (c *Conn) Rename(ctx context.Context, from, to string) error {
	return c.twoNames(ctx, cmdRename, "rename set", from, to)
}

// Swap exchanges the contents (and names) of two sets of compatible type,
// atomically for packets: rules referencing either name see the other
// set's contents from then on. Like `ipset swap A B`.
func (c *Conn) Swap(ctx context.Context, a, b string) error {
	return c.twoNames(ctx, cmdSwap, "swap sets", a, b)
}

func (c *Conn) twoNames(ctx context.Context, cmd command, op, a, b string) error {
	if err := validateName("from", a); err != nil {
		return err
	}
	if err := validateName("to", b); err != nil {
		return err
	}
	w := c.newAttrs(80)
	w.String(attrSetName, a)
	w.String(attrSetName2, b)
	_, err := c.execute(ctx, cmd, 0, w, op, a+" "+b, opOther, 0)
	return err
}
