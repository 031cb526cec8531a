package nft

import (
	"errors"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/nft/expr"
)

func jumpRule(target string) *Rule {
	return &Rule{Family: FamilyINet, Table: "t", Chain: "a", Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: target}}}
}

func TestJumpToDeletedChainRefusedBeforeSending(t *testing.T) {
	b := (&Conn{}).NewBatch()
	b.DeleteChain(&Chain{Family: FamilyINet, Table: "t", Name: "gone"})
	b.AddRule(jumpRule("gone"))
	if _, _, err := b.build(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("got %v, want ErrInvalid naming the chain", err)
	}
	// Deleted, then created again in the same batch: fine.
	b = (&Conn{}).NewBatch()
	b.DeleteChain(&Chain{Family: FamilyINet, Table: "t", Name: "gone"})
	b.AddChain(&Chain{Family: FamilyINet, Table: "t", Name: "gone"})
	b.AddRule(jumpRule("gone"))
	if _, _, err := b.build(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckJumpsLooksUpKernel(t *testing.T) {
	c, ns := testConn(t)
	ctx := testCtx(t)
	ns.Run(t, "nft", "add table inet t; add chain inet t a; add chain inet t there")
	gen0, err := c.GetGen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := c.NewBatch()
	b.CheckJumps = true
	b.AddRule(jumpRule("there"))
	b.AddChain(&Chain{Family: FamilyINet, Table: "t", Name: "new"})
	b.AddRule(jumpRule("new"))
	b.AddRule(jumpRule("missing"))
	err = b.Commit(ctx)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "operation 3") {
		t.Fatalf("got %v, want ErrInvalid for operation 3 naming chain missing", err)
	}
	if gen1, _ := c.GetGen(ctx); gen1.ID != gen0.ID {
		t.Error("something was committed")
	}
	// Without the missing target the same batch commits.
	b.Reset()
	b.AddRule(jumpRule("there"))
	b.AddChain(&Chain{Family: FamilyINet, Table: "t", Name: "new"})
	b.AddRule(jumpRule("new"))
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
