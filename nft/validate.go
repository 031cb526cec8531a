package nft

import "fmt"

// check looks at the batch as a whole before anything is sent: references
// between its own operations that cannot work.
func (b *Batch) check() error {
	if _, err := b.checkJumps(); err != nil {
		return err
	}
	type key struct{ table, chain string }
	chainFam := map[key][]Family{}
	for _, o := range b.ops {
		if c, ok := o.obj.(*Chain); ok && o.cmd == msgNewChain {
			k := key{c.Table, c.Name}
			chainFam[k] = append(chainFam[k], c.Family)
		}
	}
	if len(chainFam) == 0 {
		return nil
	}
	for i, o := range b.ops {
		r, ok := o.obj.(*Rule)
		if !ok || o.cmd != msgNewRule {
			continue
		}
		fams, ok := chainFam[key{r.Table, r.Chain}]
		if !ok {
			continue
		}
		match := false
		for _, f := range fams {
			match = match || f == r.Family
		}
		if !match {
			return fmt.Errorf("%w: batch operation %d: %v: chain %s %s exists in this batch only in family %v",
				ErrInvalid, i, r, r.Table, r.Chain, fams[0])
		}
	}
	return nil
}
