// Package nft manages nf_tables over netlink without the nft binary:
// tables, chains, rules, sets, maps and elements, stateful objects and
// flowtables, changed through atomic batches and read back losslessly.
//
//	c, err := nft.Dial(nil)
//	b := c.NewBatch()
//	b.AddTable(&nft.Table{Family: nft.FamilyINet, Name: "filter"})
//	b.AddChain(&nft.Chain{Family: nft.FamilyINet, Table: "filter", Name: "input",
//		Type: nft.ChainTypeFilter, Hook: nft.HookInput, Policy: nft.PolicyDrop})
//	b.AddRule(&nft.Rule{Family: nft.FamilyINet, Table: "filter", Chain: "input", Exprs: ...})
//	err = b.Commit(ctx) // one transaction; handles are written back
//
// Rule expressions are the types of package expr.
//
// iptables rules go through the same Batch, so one transaction can mix
// iptables-nft rules and native nft objects. Package iptables encodes a
// rule's expressions itself (the exact bytes iptables-nft sends, xt
// match/target info included) and hands them over with Rule.SetRawExprs,
// plus Rule.Compat for rules with xt matches; Rule.ID and
// Rule.PositionID place a rule next to one added earlier in the same
// batch (`-I CHAIN N` inside a restore), DeleteRule with Handle 0 deletes
// such a rule by ID, Chain.WriteCounters sends a base chain's counters
// (`:INPUT DROP [p:b]`), RenameChain is `-E`. testdata holds what
// iptables-nft-restore 1.8.9 sends for those cases; nfkit's messages carry
// the same attributes and bytes, NLA_F_NESTED aside (iptables-nft sets it,
// nfkit's top-level nests do not; the kernel reads both alike), and
// without the expressions iptables-nft needlessly repeats in a delete.
//
// # Network namespaces
//
// Dial(&Config{NetNS: fd}) binds the socket inside the namespace fd refers
// to; every operation of that Conn then acts there. No thread switches
// namespaces.
//
// # Concurrency
//
// A Conn is safe for concurrent use; operations on it are serialised. A
// Batch is not safe for concurrent use. Iterators returned by All...
// hold the connection until they finish or the loop breaks.
//
// Listing the rules of a whole table, family or ruleset switches to
// dumping chain by chain once it is large (AllRules, ListRules). The
// kernel's rule dump keeps only a position counter between reply
// datagrams and walks the table again from its first rule for each one,
// so a dump filtered by table alone costs O(rules²) (measured 47 µs per
// rule at 220 000 rules), while a dump filtered by table and chain looks
// the chain up and walks only it. nfkit yields from one dump, and after
// 4 096 rules lists the chains and dumps the rest chain by chain on a few
// extra sockets the Conn opens on first use (in its namespace; Close
// closes them), yielding the rules in the kernel's chain order with a
// bounded look-ahead. Those dumps are not one snapshot: the ruleset
// generation is compared across them, and a change (any commit in the
// namespace) is reported as ErrDumpInterrupted at the end of AllRules;
// ListRules retries a few times first. Smaller listings are one dump, as
// before.
//
// # Errors
//
// Invalid input is rejected before anything is sent, with an error wrapping
// ErrInvalid that names the field and value. Kernel failures are *Error
// values (an alias of the shared nfkit error type): operation, object, index
// of the failing batch operation, errno and the kernel's extended-ack
// message. errors.Is works with unix errnos, fs.ErrExist, fs.ErrNotExist and
// ErrConflict.
//
// Lossless: everything the kernel dumps decodes, and encoding a listed
// object again gives the dumped attributes. Unknown attributes are kept
// raw, and an expression is returned typed only when it re-encodes to
// exactly the attributes it came from (otherwise it is an expr.Raw). The
// one difference allowed is NLA_F_NESTED: requests set it on nests, as nft
// and google/nftables send them (expr.Encode does), while the kernel dumps
// nests without it; byte comparisons of re-encoded dumps therefore use
// expr.SameAttrs, which ignores that flag bit and nothing else. Objects
// whose layout differs between kernels (flowtables) remember the dumped
// attribute order and reproduce it.
//
// # Atomicity
//
// A Batch commits as one nf_tables transaction (BATCH_BEGIN ... BATCH_END
// in one sendmsg): all of it applies or none of it does, exactly like one
// `nft -f` file. Setting Batch.Gen makes the commit conditional on the
// ruleset generation (ErrConflict if someone else committed in between);
// Conn.Retry rebuilds and retries. Listing is not transactional: a dump that
// races with a commit is retried by List... and reported as
// ErrDumpInterrupted by All....
//
// # Kernel requirements
//
// nf_tables with extended acks (Linux 4.12+). Table owner flag: 5.12;
// inet ingress: 5.10; netdev egress: 5.16; Destroy operations: 6.3; table
// persist flag: 6.9. Tested on 6.18. Flowtables need CONFIG_NF_FLOW_TABLE
// (and nf_flow_table_inet), which this project's host kernel lacks: it
// answers ENOENT to every NEWFLOWTABLE whatever the devices; they are
// tested under the qemu runner on Debian's 6.1 (go test -tags vmtest).
// A flowtable's devices must exist in the namespace at commit time.
package nft
