package ipset

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func ipPortEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Addr: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Proto: ProtoTCP, Port: uint16(1 + i%60000)}
	}
	return out
}

// present lists which of entries are in the set.
func present(t *testing.T, c *Conn, set string, entries []Entry) []bool {
	t.Helper()
	in := map[string]bool{}
	for e, err := range c.Entries(testCtx(t), set) {
		if err != nil {
			t.Fatal(err)
		}
		in[e.String()] = true
	}
	out := make([]bool, len(entries))
	for i, e := range entries {
		out[i] = in[e.String()]
	}
	return out
}

// TestBatchReportsExactly: entries span several messages; one in the
// middle already exists. The report must say exactly which entries went
// in, and the set must agree.
func TestBatchReportsExactly(t *testing.T) {
	for _, cont := range []bool{false, true} {
		name := "stop"
		if cont {
			name = "continue"
		}
		t.Run(name, func(t *testing.T) {
			_, c := testConn(t)
			ctx := testCtx(t)
			entries := ipPortEntries(6000)
			if err := c.Create(ctx, Set{Name: "s", Type: HashIPPort}); err != nil {
				t.Fatal(err)
			}
			const dup = 2500
			if err := c.Add(ctx, "s", entries[dup]); err != nil {
				t.Fatal(err)
			}
			b := NewBatch()
			b.ContinueOnError = cont
			b.Add("s", entries...)
			b.Flush("s") // must not run when stopping on error
			err := b.Commit(ctx, c)
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("Commit: %v, want *BatchError", err)
			}
			if !errors.Is(err, ErrEntryExists) {
				t.Errorf("errors.Is(ErrEntryExists) false: %v", err)
			}
			r := be.Ops[0]
			if len(r.Failed) != 1 || r.Failed[0].Index != dup {
				t.Fatalf("Failed = %+v, want entry %d", r.Failed, dup)
			}
			if !strings.Contains(err.Error(), "entry 2500") {
				t.Errorf("message does not name the entry: %v", err)
			}
			// The first message ends somewhere after the duplicate; the
			// kernel stopped at it, so the rest of that message is skipped.
			if len(r.Skipped) == 0 || r.Skipped[0].From != dup+1 {
				t.Fatalf("Skipped = %+v", r.Skipped)
			}
			if cont {
				if be.Ops[1].Err != nil {
					t.Errorf("flush with ContinueOnError: %v", be.Ops[1].Err)
				}
				return // the flush emptied the set
			}
			if r.Skipped[len(r.Skipped)-1].To != len(entries) {
				t.Errorf("stop on error: later entries must be skipped: %+v", r.Skipped)
			}
			if !errors.Is(be.Ops[1].Err, ErrNotSent) {
				t.Errorf("flush after failure: %v, want ErrNotSent", be.Ops[1].Err)
			}
			got := present(t, c, "s", entries)
			n := 0
			for i := range entries {
				want := r.Applied(i) || i == dup // the duplicate was there before
				if got[i] != want {
					t.Fatalf("entry %d: in set %v, report says applied %v", i, got[i], r.Applied(i))
				}
				if got[i] {
					n++
				}
			}
			if n != r.AppliedCount()+1 {
				t.Errorf("AppliedCount %d, set has %d (+1 pre-existing)", r.AppliedCount(), n)
			}
		})
	}
}

// TestBatchContinueAppliesLaterMessages checks that with ContinueOnError
// the messages after a failing one are applied, and the report says so.
func TestBatchContinueAppliesLaterMessages(t *testing.T) {
	_, c := testConn(t)
	ctx := testCtx(t)
	entries := ipPortEntries(6000)
	if err := c.Create(ctx, Set{Name: "s", Type: HashIPPort}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, "s", entries[10]); err != nil {
		t.Fatal(err)
	}
	b := NewBatch()
	b.ContinueOnError = true
	b.Add("s", entries...)
	err := b.Commit(ctx, c)
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("%v", err)
	}
	r := be.Ops[0]
	got := present(t, c, "s", entries)
	applied := 0
	for i := range entries {
		if got[i] != (r.Applied(i) || i == 10) {
			t.Fatalf("entry %d: in set %v, report %v", i, got[i], r.Applied(i))
		}
		if r.Applied(i) {
			applied++
		}
	}
	if !got[len(entries)-1] {
		t.Error("last entry (a later message) not applied")
	}
	if applied != r.AppliedCount() || applied >= len(entries)-1 {
		t.Errorf("applied %d, AppliedCount %d", applied, r.AppliedCount())
	}
}

func TestBatchMixed(t *testing.T) {
	ns, c := testConn(t)
	ctx := testCtx(t)
	b := NewBatch()
	b.Create(Set{Name: "a", Type: HashNet, Comment: true})
	b.Add("a", Entry{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Comment: "doc"})
	b.Create(Set{Name: "b", Type: HashNet, Comment: true})
	b.Add("b", Entry{Prefix: netip.MustParsePrefix("198.51.100.0/24")})
	b.Swap("a", "b")
	b.Rename("b", "c")
	b.Create(Set{Name: "l", Type: ListSet})
	b.Add("l", Entry{Set: "a"}, Entry{Set: "c", Before: "a"})
	b.DeleteExist("a", Entry{Prefix: netip.MustParsePrefix("203.0.113.0/24")})
	if err := b.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := normalizeSave(cliSave(t, ns))
	want := []string{
		"create a hash:net family inet hashsize 1024 maxelem 65536 comment bucketsize 12",
		"add a 198.51.100.0/24",
		"create c hash:net family inet hashsize 1024 maxelem 65536 comment bucketsize 12",
		`add c 192.0.2.0/24 comment "doc"`,
		"create l list:set size 8",
		"add l c",
		"add l a",
	}
	for i := range got {
		got[i] = strings.Split(got[i], " initval")[0]
	}
	diffLines(t, "save", got, want)
}
