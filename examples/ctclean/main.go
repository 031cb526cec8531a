// Command ctclean removes the conntrack entries of a backend that left a
// service, as a service proxy must (otherwise UDP clients keep being sent
// to the dead backend until their entry times out), while watching the
// destroy events that the deletion produces.
//
// By default it runs in a throwaway namespace, with entries for a service
// VIP 203.0.113.10:53/udp DNATed to two backends.
//
//	sudo go run ./examples/ctclean
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
	if err := run(ctx, os.Stdout, options{Flows: 100}); err != nil {
		fmt.Fprintln(os.Stderr, "ctclean:", err)
		os.Exit(1)
	}
}
