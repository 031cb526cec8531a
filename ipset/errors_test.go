package ipset

import (
	"errors"
	"io/fs"
	"net/netip"
	"testing"

	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/internal/nstest"
)

// rawAdd sends one ADD without nfkit's checks, to see the kernel's own
// answer to input nfkit would refuse.
func rawAdd(t *testing.T, c *Conn, set string, e Entry) error {
	t.Helper()
	w := c.newAttrs(64)
	w.String(attrSetName, set)
	d := w.begin(attrData)
	e.appendEntryData(w, 0, 0)
	w.End(d)
	_, err := c.execute(t.Context(), cmdAdd, 0x200, w, "raw add", set, opAdd, kindHash)
	return err
}

func TestKernelErrors(t *testing.T) {
	ns, c := testConn(t)
	ctx := testCtx(t)
	ip := func(s string) Entry { return Entry{Addr: netip.MustParseAddr(s)} }
	mustIs := func(t *testing.T, err error, targets ...error) {
		t.Helper()
		if err == nil {
			t.Fatalf("no error, want %v", targets)
		}
		for _, target := range targets {
			if !errors.Is(err, target) {
				t.Errorf("errors.Is(%v, %v) = false", err, target)
			}
		}
		var ke *Error
		if !errors.As(err, &ke) || ke.Errno == 0 {
			t.Errorf("%v: not a kernel *Error with an errno", err)
		}
	}
	if err := c.Create(ctx, Set{Name: "s4", Type: HashIP}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "s4", ip("192.0.2.1")); err != nil {
		t.Fatal(err)
	}

	t.Run("create existing set", func(t *testing.T) {
		mustIs(t, c.Create(ctx, Set{Name: "s4", Type: HashIP}), ErrSetExists, fs.ErrExist)
		if err := c.CreateExist(ctx, Set{Name: "s4", Type: HashIP}); err != nil {
			t.Errorf("CreateExist of an identical set: %v", err)
		}
		mustIs(t, c.CreateExist(ctx, Set{Name: "s4", Type: HashNet}), ErrSetExists, fs.ErrExist)
	})
	t.Run("add existing entry", func(t *testing.T) {
		mustIs(t, c.Add(ctx, "s4", ip("192.0.2.1")), ErrEntryExists, fs.ErrExist)
		if err := c.AddExist(ctx, "s4", ip("192.0.2.1")); err != nil {
			t.Errorf("AddExist: %v", err)
		}
	})
	t.Run("delete missing entry", func(t *testing.T) {
		mustIs(t, c.Delete(ctx, "s4", ip("192.0.2.99")), ErrEntryMissing, fs.ErrNotExist)
		if err := c.DeleteExist(ctx, "s4", ip("192.0.2.99")); err != nil {
			t.Errorf("DeleteExist: %v", err)
		}
	})
	t.Run("missing set", func(t *testing.T) {
		mustIs(t, c.Destroy(ctx, "nope"), ErrSetNotFound, fs.ErrNotExist)
		b := NewBatch()
		b.Destroy("nope")
		mustIs(t, b.Commit(ctx, c), ErrSetNotFound, fs.ErrNotExist)
		mustIs(t, c.Flush(ctx, "nope"), ErrSetNotFound, fs.ErrNotExist)
		_, err := c.Get(ctx, "nope")
		mustIs(t, err, ErrSetNotFound, fs.ErrNotExist)
	})
	t.Run("wrong family (kernel)", func(t *testing.T) {
		// The kernel answers an address of the other family in an entry
		// with IPSET_ERR_PROTOCOL; nfkit refuses it before sending.
		mustIs(t, rawAdd(t, c, "s4", ip("2001:db8::1")), ErrProtocol)
		if err := c.Add(ctx, "s4", ip("2001:db8::1")); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add of an IPv6 entry to an inet set: %v, want ErrInvalid", err)
		}
		// A family the type does not have is IPSET_ERR_INVALID_FAMILY.
		w := c.newAttrs(128)
		w.String(attrSetName, "badfam")
		w.String(attrTypeName, string(HashIP))
		w.U8(attrRevision, 0)
		w.U8(attrFamily, 7) // NFPROTO_BRIDGE
		d := w.begin(attrData)
		w.End(d)
		_, err := c.execute(ctx, cmdCreate, 0x600, w, "create set", "badfam", opOther, 0)
		mustIs(t, err, ErrFamilyMismatch)
	})
	t.Run("timeout without timeout support (kernel)", func(t *testing.T) {
		mustIs(t, rawAdd(t, c, "s4", Entry{Addr: netip.MustParseAddr("192.0.2.2"), Timeout: 5e9}), ErrTimeoutUnsupported)
	})
	t.Run("comment without comment support (kernel)", func(t *testing.T) {
		mustIs(t, rawAdd(t, c, "s4", Entry{Addr: netip.MustParseAddr("192.0.2.2"), Comment: "x"}), ErrCommentUnsupported)
	})
	t.Run("unknown type (kernel)", func(t *testing.T) {
		w := c.newAttrs(64)
		w.String(attrTypeName, "hash:nfkit-none")
		w.U8(attrFamily, uint8(FamilyInet))
		_, err := c.execute(ctx, cmdType, 0, w, "ipset type", "hash:nfkit-none", opOther, 0)
		mustIs(t, err, ErrTypeUnsupported)
	})
	t.Run("rename onto existing", func(t *testing.T) {
		if err := c.Create(ctx, Set{Name: "other", Type: HashIP, Family: FamilyInet6}); err != nil {
			t.Fatal(err)
		}
		mustIs(t, c.Rename(ctx, "s4", "other"), ErrSetExists, fs.ErrExist)
	})
	t.Run("swap different families", func(t *testing.T) {
		mustIs(t, c.Swap(ctx, "s4", "other"), ErrTypeMismatch)
	})
	t.Run("destroy set used by iptables rule", func(t *testing.T) {
		if _, err := ns.Exec("iptables", "-A", "INPUT", "-m", "set", "--match-set", "s4", "src", "-j", "DROP"); err != nil {
			nstest.Unavailable(t, "iptables set match unavailable: "+err.Error())
		}
		mustIs(t, c.Destroy(ctx, "s4"), ErrSetInUse)
		s, err := c.Get(ctx, "s4")
		if err != nil {
			t.Fatal(err)
		}
		if s.References != 1 {
			t.Errorf("References = %d, want 1", s.References)
		}
		ns.Run(t, "iptables", "-F", "INPUT")
		if err := c.Destroy(ctx, "s4"); err != nil {
			t.Errorf("destroy after the rule is gone: %v", err)
		}
	})
	t.Run("full set", func(t *testing.T) {
		if err := c.Create(ctx, Set{Name: "small", Type: HashIP, MaxElem: 2}); err != nil {
			t.Fatal(err)
		}
		err := c.Add(ctx, "small", ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"))
		mustIs(t, err, ErrSetFull)
		var be *BatchError
		if !errors.As(err, &be) || len(be.Ops[0].Failed) != 1 || be.Ops[0].Failed[0].Index != 2 {
			t.Fatalf("want entry 2 reported as failed: %#v", err)
		}
	})
	t.Run("test entry", func(t *testing.T) {
		if err := c.Create(ctx, Set{Name: "nets", Type: HashNet}); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(ctx, "nets", Entry{Prefix: netip.MustParsePrefix("192.0.2.0/24")}, Entry{Prefix: netip.MustParsePrefix("192.0.2.128/25"), NoMatch: true}); err != nil {
			t.Fatal(err)
		}
		for addr, want := range map[string]bool{"192.0.2.1": true, "192.0.2.200": false, "198.51.100.1": false} {
			got, err := c.Test(ctx, "nets", ip(addr))
			if err != nil || got != want {
				t.Errorf("Test(%s) = %v, %v; want %v", addr, got, err, want)
			}
		}
	})
	// ErrNotSent is nlconn's, re-exported.
	if !errors.Is(ErrNotSent, nlconn.ErrNotSent) {
		t.Error("ErrNotSent")
	}
}
