// Package iptables manages iptables rules on the nf_tables backend, writing
// exactly the bytes iptables-nft 1.8.9 writes, so that iptables-nft-save
// prints nfkit's rules as its own and nfkit reads iptables-nft's rules back
// into typed rules. It parses and prints iptables-save text (ParseRule,
// Rule.String, Save) and applies iptables-restore input (Restore) without
// any binary and without the xtables lock.
//
// Writes use this package's own nf_tables messages on internal/nlconn
// (one encoder for iptables' tables, chains and rules, checked byte for
// byte against captured iptables-nft fixtures); reads go through package
// nft (tables, chains, rules), with rule expressions decoded by this
// package.
//
// # Network namespaces
//
// Dial(&Config{NetNS: fd}) binds the sockets inside the namespace; no
// thread switches namespaces.
//
// # Concurrency
//
// A Conn is safe for concurrent use. A Batch is not.
//
// # Errors
//
// Bad input is rejected before any I/O with an error wrapping ErrInvalid;
// parse errors are *ParseError naming the line (Restore) and the token.
// Kernel errors are the shared nlconn error type (errors.Is works with
// unix errnos, fs.ErrExist, fs.ErrNotExist); in Restore they come wrapped
// in *LineError naming the input line whose operation failed. Rules in an
// iptables table that iptables-nft did not write yield errors wrapping
// ErrForeign; Save prints iptables-nft-save's "incompatible" line instead
// of such a table.
//
// # Atomicity
//
// A Batch and a Restore commit as ONE nf_tables transaction, across
// tables: all of it or nothing. Conn.Insert/Delete/Replace/... read the
// chain first and then commit one transaction; a concurrent change in
// between can make the commit fail, never hit another rule.
//
// # Kernel requirements
//
// nf_tables with nft_compat (xt matches and targets used by the rules),
// NFTA_RULE_ID / NFTA_RULE_POSITION_ID (Linux 4.x+). Tested on 6.18.
// Performance note: the kernel validates the whole table on every commit
// that adds a rule with a verdict or an xt extension (measured ~120-200
// ms on a 62 000-rule kube-proxy nat table, with or without nfkit), and a
// rule dump of a whole table is quadratic, so Save dumps chain by chain.
package iptables
