// Command firewall is a stateful host firewall in nf_tables, applied
// atomically: `table inet firewall` with an input chain whose policy is
// drop, accepting established and related traffic, new connections to the
// service port from an interval set of allowed prefixes, a rate-limited
// port, and logging and counting what is dropped.
//
// By default it runs in throwaway namespaces: a host with the firewall, a
// client in an allowed prefix and one outside, and shows with real
// connections what passes and what does not.
//
//	sudo go run ./examples/firewall
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, options{}); err != nil {
		fmt.Fprintln(os.Stderr, "firewall:", err)
		os.Exit(1)
	}
}
