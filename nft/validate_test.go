package nft

import (
	"errors"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/nft/expr"
)

// TestValidation: bad input is rejected before any I/O. The batches here
// belong to a Conn without a socket: anything sent would panic.
func TestValidation(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		name  string
		build func(b *Batch)
		want  string
	}{
		{"empty table name", func(b *Batch) { b.AddTable(&Table{Family: FamilyIPv4}) }, "table name is empty"},
		{"long table name", func(b *Batch) { b.AddTable(&Table{Family: FamilyIPv4, Name: long}) }, "256 bytes"},
		{"no family", func(b *Batch) { b.AddTable(&Table{Name: "t"}) }, "family"},
		{"empty chain", func(b *Batch) { b.AddChain(&Chain{Family: FamilyIPv4, Table: "t"}) }, "chain name is empty"},
		{"hook in wrong family", func(b *Batch) {
			b.AddChain(&Chain{Family: FamilyNetdev, Table: "t", Name: "c", Type: ChainTypeFilter, Hook: HookInput})
		}, "does not exist in family netdev"},
		{"netdev without device", func(b *Batch) {
			b.AddChain(&Chain{Family: FamilyNetdev, Table: "t", Name: "c", Type: ChainTypeFilter, Hook: HookIngress})
		}, "needs a device"},
		{"nat in bridge", func(b *Batch) {
			b.AddChain(&Chain{Family: FamilyBridge, Table: "t", Name: "c", Type: ChainTypeNAT, Hook: HookInput})
		}, "chain type nat"},
		{"policy without hook", func(b *Batch) {
			b.AddChain(&Chain{Family: FamilyIPv4, Table: "t", Name: "c", Policy: PolicyDrop})
		}, "without a hook"},
		{"replace without handle", func(b *Batch) {
			b.ReplaceRule(&Rule{Family: FamilyIPv4, Table: "t", Chain: "c"})
		}, "needs the rule's handle"},
		{"delete without handle", func(b *Batch) {
			b.DeleteRule(&Rule{Family: FamilyIPv4, Table: "t", Chain: "c"})
		}, "needs the rule's handle"},
		{"comment too long", func(b *Batch) {
			b.AddRule(&Rule{Family: FamilyIPv4, Table: "t", Chain: "c", Comment: long})
		}, "comment of 256 bytes"},
		{"rule in chain of another family", func(b *Batch) {
			b.AddTable(&Table{Family: FamilyIPv4, Name: "t"})
			b.AddChain(&Chain{Family: FamilyIPv4, Table: "t", Name: "c"})
			b.AddRule(&Rule{Family: FamilyIPv6, Table: "t", Chain: "c"})
		}, "only in family ip"},
		{"nil expression", func(b *Batch) {
			b.AddRule(&Rule{Family: FamilyIPv4, Table: "t", Chain: "c", Exprs: []expr.Any{nil}})
		}, "nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := (&Conn{}).NewBatch()
			tc.build(b)
			err := b.Commit(t.Context())
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestFamilyString(t *testing.T) {
	for _, s := range []string{"ip", "ip6", "inet", "arp", "bridge", "netdev"} {
		f, err := ParseFamily(s)
		if err != nil || f.String() != s {
			t.Errorf("%s: %v %v", s, f, err)
		}
	}
	if _, err := ParseFamily("ipx"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseFamily(ipx): %v", err)
	}
}
