package iptables

import "github.com/nfkit/nfkit/nft"

// Chain is an iptables chain as iptables-save lists it: `:NAME POLICY
// [PACKETS:BYTES]`.
type Chain struct {
	Name string
	// Builtin chains (INPUT, PREROUTING, ...) are nf_tables base chains;
	// the others are user-defined.
	Builtin bool
	// Policy is "ACCEPT" or "DROP" for built-in chains, "-" for user ones.
	Policy string
	// Counters are the policy counters of a built-in chain: zero unless the
	// chain was created with counters (a restore `:CHAIN` line) and packets
	// hit its policy.
	Counters Counters
}

// isBuiltin reports whether chain is a built-in chain of table.
func isBuiltin(table, chain string) (builtin, bool) {
	bc, ok := builtins[table][chain]
	return bc, ok
}

// NewChain creates a user-defined chain, like `iptables -N CHAIN`; it
// fails (at commit) if the chain exists.
func (b *Batch) NewChain(f Family, table, chain string) error {
	if err := checkTableChain(f, table, chain); err != nil {
		return err
	}
	if _, ok := isBuiltin(table, chain); ok {
		return invalid("chain %q is built in", chain)
	}
	if err := b.ensure(f, table, ""); err != nil {
		return err
	}
	b.push(bop{kind: opCreateChain, chain: userChain(f, table, chain)})
	return nil
}

func userChain(f Family, table, chain string) *nft.Chain {
	return &nft.Chain{Family: nft.Family(f), Table: table, Name: chain}
}

// DeleteChain deletes an empty, unreferenced user-defined chain, like
// `iptables -X CHAIN`.
func (b *Batch) DeleteChain(f Family, table, chain string) error {
	if err := checkTableChain(f, table, chain); err != nil {
		return err
	}
	if _, ok := isBuiltin(table, chain); ok {
		return invalid("cannot delete built-in chain %q", chain)
	}
	b.push(bop{kind: opDelChain, chain: userChain(f, table, chain)})
	return nil
}

// FlushChain deletes every rule of chain, or of every chain of table when
// chain is "", like `iptables -F [CHAIN]`.
func (b *Batch) FlushChain(f Family, table, chain string) error {
	if chain == "" {
		if err := checkTableChain(f, table, "x"); err != nil {
			return err
		}
	} else if err := checkTableChain(f, table, chain); err != nil {
		return err
	}
	b.flush(f, table, chain)
	return nil
}

func (b *Batch) flush(f Family, table, chain string) {
	if chain == "" {
		b.push(bop{kind: opFlushTable, table: &nft.Table{Family: nft.Family(f), Name: table}})
		return
	}
	b.push(bop{kind: opFlushChain, chain: userChain(f, table, chain)})
}

// SetPolicy sets the policy of a built-in chain ("ACCEPT" or "DROP"),
// creating the table and chain if needed, like `iptables -P CHAIN
// POLICY`.
func (b *Batch) SetPolicy(f Family, table, chain, policy string) error {
	if err := checkTableChain(f, table, chain); err != nil {
		return err
	}
	bc, ok := isBuiltin(table, chain)
	if !ok {
		return invalid("policy on non-built-in chain %q", chain)
	}
	if policy != "ACCEPT" && policy != "DROP" {
		return invalid("policy %q (ACCEPT or DROP)", policy)
	}
	if err := b.ensure(f, table, ""); err != nil {
		return err
	}
	b.push(bop{kind: opAddChain, chain: builtinChain(f, table, chain, bc, policy, nil)})
	b.created[tableKey(f, table)+"/"+chain] = true
	return nil
}

// renameChain renames the chain with nf_tables handle h (the kernel
// renames when NEWCHAIN carries both a handle and a new name).
func (b *Batch) renameChain(f Family, table string, h uint64, newName string) {
	b.push(bop{kind: opRenameChain, chain: &nft.Chain{Family: nft.Family(f), Table: table, Handle: h}, newName: newName})
}
