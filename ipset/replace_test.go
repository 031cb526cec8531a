package ipset

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestReplaceSet(t *testing.T) {
	ns, c := testConn(t)
	ctx := testCtx(t)
	s := Set{Name: "r", Type: HashIPPort, MaxElem: 100}
	old := ipPortEntries(50)
	if err := c.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "r", old...); err != nil {
		t.Fatal(err)
	}
	// A rule references the set: swap keeps working and the reference
	// stays with the name.
	if _, err := ns.Exec("iptables", "-A", "INPUT", "-m", "set", "--match-set", "r", "src,dst", "-j", "DROP"); err != nil {
		t.Logf("no iptables set match, replacing without a reference: %v", err)
	}
	newer := ipPortEntries(80)[30:]
	if err := c.ReplaceSet(ctx, s, newer); err != nil {
		t.Fatal(err)
	}
	got := present(t, c, "r", newer)
	for i, ok := range got {
		if !ok {
			t.Fatalf("new entry %d missing", i)
		}
	}
	n := 0
	for range c.Entries(ctx, "r") {
		n++
	}
	if n != len(newer) {
		t.Errorf("set has %d entries, want %d", n, len(newer))
	}
	sets, err := c.ListSets(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 {
		t.Errorf("temporary set left behind: %+v", sets)
	}

	t.Run("failure leaves the set untouched", func(t *testing.T) {
		// 120 entries into maxelem 100: the kernel refuses entry 100.
		err := c.ReplaceSet(ctx, s, ipPortEntries(120))
		if !errors.Is(err, ErrSetFull) {
			t.Fatalf("ReplaceSet: %v, want ErrSetFull", err)
		}
		n := 0
		for range c.Entries(ctx, "r") {
			n++
		}
		if n != len(newer) {
			t.Errorf("set changed: %d entries, want %d", n, len(newer))
		}
		sets, _ := c.ListSets(ctx, ListOptions{})
		if len(sets) != 1 {
			t.Errorf("temporary set left behind: %+v", sets)
		}
	})
	t.Run("invalid entry sends nothing", func(t *testing.T) {
		err := c.ReplaceSet(ctx, s, []Entry{{Addr: netip.MustParseAddr("2001:db8::1"), Port: 1}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Addr") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("missing set is created", func(t *testing.T) {
		if err := c.ReplaceSet(ctx, Set{Name: "fresh", Type: HashNet}, []Entry{{Prefix: netip.MustParsePrefix("192.0.2.0/24")}}); err != nil {
			t.Fatal(err)
		}
		out := ns.Run(t, "ipset", "list", "fresh")
		if !strings.Contains(out, "192.0.2.0/24") {
			t.Errorf("ipset list fresh:\n%s", out)
		}
	})
	t.Run("type change is refused by the kernel", func(t *testing.T) {
		err := c.ReplaceSet(ctx, Set{Name: "r", Type: HashIP}, nil)
		if !errors.Is(err, ErrTypeMismatch) {
			t.Fatalf("%v, want ErrTypeMismatch", err)
		}
	})
}

func TestRestore(t *testing.T) {
	for _, sc := range cliScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref, _ := testConn(t)
			ref.RunInput(t, sc.text, "ipset", "restore")
			want := cliSave(t, ref)
			ns, c := testConn(t)
			ctx := testCtx(t)
			if err := c.Restore(ctx, strings.NewReader(sc.text), RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			diffLines(t, "ipset save after Restore", normalizeSave(cliSave(t, ns)), normalizeSave(want))
			// Restoring the CLI's own save output with -exist is a no-op.
			if err := c.Restore(ctx, strings.NewReader(want), RestoreOptions{Exist: true}); err != nil {
				t.Fatalf("restore -exist of save output: %v", err)
			}
			diffLines(t, "ipset save after restore -exist", normalizeSave(cliSave(t, ns)), normalizeSave(want))
		})
	}
	t.Run("failing line", func(t *testing.T) {
		_, c := testConn(t)
		ctx := testCtx(t)
		in := "create a hash:ip\nadd a 192.0.2.1\n# comment\nadd a 192.0.2.2\nadd a 192.0.2.1\nadd a 192.0.2.3\n"
		err := c.Restore(ctx, strings.NewReader(in), RestoreOptions{})
		var re *RestoreError
		if !errors.As(err, &re) || re.Line() != 5 || !errors.Is(err, ErrEntryExists) {
			t.Fatalf("Restore: %v, want a RestoreError at line 5", err)
		}
		if err := c.Restore(ctx, strings.NewReader(in), RestoreOptions{Exist: true}); err != nil {
			t.Fatalf("with Exist: %v", err)
		}
	})
	t.Run("parse error names the line", func(t *testing.T) {
		_, c := testConn(t)
		err := c.Restore(testCtx(t), strings.NewReader("create a hash:ip\nadd a 192.0.2.1,tcp:80\n"), RestoreOptions{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("%v", err)
		}
		if sets, _ := c.ListSets(testCtx(t), ListOptions{}); len(sets) != 0 {
			t.Errorf("something was sent: %+v", sets)
		}
	})
}
