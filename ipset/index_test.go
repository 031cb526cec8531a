package ipset

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestIndex checks name <-> index against the kernel's slot allocation:
// sets take the first free index in creation order, and a destroyed
// set's slot is reused by the next one created (as iptables' set match,
// which stores the index, sees them).
func TestIndex(t *testing.T) {
	nstest.RequireRoot(t)
	ns, c := testConn(t)
	ctx := testCtx(t)
	for _, n := range []string{"a", "b", "c"} {
		ns.Run(t, "ipset", "create", n, "hash:ip")
	}
	ns.Run(t, "ipset", "destroy", "b")
	ns.Run(t, "ipset", "create", "d", "hash:net")
	want := map[string]uint16{"a": 0, "d": 1, "c": 2}
	for name, idx := range want {
		got, err := c.Index(ctx, name)
		if err != nil || got != idx {
			t.Errorf("Index(%s) = %d, %v; want %d", name, got, err, idx)
		}
		back, err := c.NameByIndex(ctx, idx)
		if err != nil || back != name {
			t.Errorf("NameByIndex(%d) = %q, %v; want %q", idx, back, err, name)
		}
	}
	if _, err := c.Index(ctx, "b"); !errors.Is(err, ErrSetNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Index of a destroyed set: %v", err)
	}
	for _, idx := range []uint16{3, 255, 4000} {
		if n, err := c.NameByIndex(ctx, idx); !errors.Is(err, ErrSetNotFound) {
			t.Errorf("NameByIndex(%d) = %q, %v; want ErrSetNotFound", idx, n, err)
		}
	}
	// A 31-byte name is the longest there is.
	long := "abcdefghijklmnopqrstuvwxyz01234"
	ns.Run(t, "ipset", "create", long, "hash:ip")
	if idx, err := c.Index(ctx, long); err != nil || idx != 3 {
		t.Errorf("Index(31-byte name) = %d, %v", idx, err)
	}
	if n, err := c.NameByIndex(ctx, 3); err != nil || n != long {
		t.Errorf("NameByIndex(3) = %q, %v", n, err)
	}
}

// TestIndexNamespace checks that the lookup happens in the Conn's
// namespace, not the caller's: a set of one namespace is unknown to a
// Conn of another.
func TestIndexNamespace(t *testing.T) {
	nstest.RequireRoot(t)
	ns1, c1 := testConn(t)
	_, c2 := testConn(t)
	ctx := testCtx(t)
	ns1.Run(t, "ipset", "create", "only1", "hash:ip")
	if idx, err := c1.Index(ctx, "only1"); err != nil || idx != 0 {
		t.Fatalf("Index in its namespace = %d, %v", idx, err)
	}
	if _, err := c2.Index(ctx, "only1"); !errors.Is(err, ErrSetNotFound) {
		t.Errorf("Index from another namespace: %v, want ErrSetNotFound", err)
	}
	if _, err := c2.NameByIndex(ctx, 0); !errors.Is(err, ErrSetNotFound) {
		t.Errorf("NameByIndex from another namespace: %v, want ErrSetNotFound", err)
	}
}

// TestIndexInvalid: bad names and the invalid id are refused before any
// I/O (a nil-socket Conn would fail on I/O).
func TestIndexInvalid(t *testing.T) {
	c := &Conn{}
	ctx := t.Context()
	for _, n := range []string{"", "abcdefghijklmnopqrstuvwxyz012345", "a\x00b"} {
		if _, err := c.Index(ctx, n); !errors.Is(err, ErrInvalid) {
			t.Errorf("Index(%q): %v, want ErrInvalid", n, err)
		}
	}
	if _, err := c.NameByIndex(ctx, 0xffff); !errors.Is(err, ErrInvalid) {
		t.Errorf("NameByIndex(0xffff): %v, want ErrInvalid", err)
	}
}
