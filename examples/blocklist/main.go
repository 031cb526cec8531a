// Command blocklist keeps a large blocklist of prefixes in an ipset,
// loaded in bulk and replaced atomically, and drops traffic from it with an
// ip6tables rule (`-m set --match-set blocklist src -j DROP`).
//
// By default it runs in throwaway namespaces on 2001:db8::/32: a host
// serving on port 8080 and two clients; the first list blocks one client,
// the replacement blocks the other, and real connections show it.
//
//	sudo go run ./examples/blocklist -prefixes 100000
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
	flag.IntVar(&opts.Prefixes, "prefixes", 50000, "size of the generated blocklist")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "blocklist:", err)
		os.Exit(1)
	}
}
