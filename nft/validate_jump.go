package nft

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/nfkit/nfkit/nft/expr"
)

// Jump and goto targets. What can be checked without I/O is checked on
// every Commit: a jump to a chain that this batch deletes (and does not
// create again) is refused with ErrInvalid. Whether a target that the
// batch does not create exists in the kernel cannot be known without
// asking it; with Batch.CheckJumps set, Commit asks (one GETCHAIN per
// distinct target, before the batch is sent) and refuses a missing one
// with ErrInvalid too. Without it the kernel refuses the whole batch
// with ENOENT, naming the rule. The lookup is not atomic with the commit:
// a chain deleted in between is still caught by the kernel.

type chainKey struct {
	family       Family
	table, chain string
}

// jumpTarget is a jump/goto of a rule the batch adds.
type jumpTarget struct {
	op   int
	rule *Rule
	key  chainKey
}

// checkJumps is the pure part: it returns the targets the batch neither
// creates nor deletes, for the optional kernel lookup.
func (b *Batch) checkJumps() ([]jumpTarget, error) {
	state := map[chainKey]bool{} // true: created by the batch, false: deleted
	var unknown []jumpTarget
	for i, o := range b.ops {
		switch obj := o.obj.(type) {
		case *Chain:
			k := chainKey{obj.Family, obj.Table, obj.Name}
			switch o.cmd {
			case msgNewChain:
				state[k] = true
			case msgDelChain, msgDestroyChain:
				if obj.Name != "" {
					state[k] = false
				}
			}
		case *Rule:
			if o.cmd != msgNewRule {
				continue
			}
			for _, e := range obj.Exprs {
				v, ok := e.(*expr.Verdict)
				if !ok || (v.Kind != expr.VerdictJump && v.Kind != expr.VerdictGoto) {
					continue
				}
				k := chainKey{obj.Family, obj.Table, v.Chain}
				created, seen := state[k]
				switch {
				case seen && !created:
					return nil, fmt.Errorf("%w: batch operation %d: %v: %s to chain %s, which this batch deletes",
						ErrInvalid, i, obj, v.Kind, v.Chain)
				case !seen:
					unknown = append(unknown, jumpTarget{i, obj, k})
				}
			}
		}
	}
	return unknown, nil
}

// lookupJumps asks the kernel for each distinct target (Batch.CheckJumps).
func (b *Batch) lookupJumps(ctx context.Context, targets []jumpTarget) error {
	done := map[chainKey]bool{}
	for _, t := range targets {
		if done[t.key] {
			continue
		}
		done[t.key] = true
		_, err := b.c.GetChain(ctx, t.key.family, t.key.table, t.key.chain)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: batch operation %d: %v: jump/goto to chain %s, which exists neither in this batch nor in the kernel",
				ErrInvalid, t.op, t.rule, t.key.chain)
		case err != nil:
			return err
		}
	}
	return nil
}
