// Command tour is nfkit's demo: in a throwaway network namespace it creates
// an nf_tables table with a set and a counter rule, iptables rules, an
// ipset, conntrack entries and (where the kernel has IPVS) a virtual
// service, prints each the way the matching CLI tool would show it, shows a
// failed atomic batch leaving nothing behind, and cleans up. The host's
// rules are never touched.
//
//	sudo go run ./examples/tour
//	sudo go run ./examples/tour -cli=false   # without the system tools' views
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	var opts options
	flag.BoolVar(&opts.CLI, "cli", true, "also show what the system tools (nft, iptables-nft-save, ipset, conntrack, ipvsadm) print, when installed")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}
