// Command serviceproxy is a kube-proxy-style service load balancer for a
// small list of services, in three modes that behave the same:
//
//   - iptables: KUBE-SERVICES / KUBE-SVC-* / KUBE-SEP-* chains with
//     statistic probabilities and DNAT, masquerade for hairpin traffic;
//   - nftables: a verdict map of services and numgen over endpoint chains;
//   - ipvs: virtual services, plus iptables to masquerade hairpin traffic.
//
// By default it builds its own little network of throwaway namespaces (a
// client, a node running the proxy rules, three backends) on documentation
// addresses, sends real requests through the virtual IPs and prints which
// backend answered; then it changes the endpoint list, updates the rules
// incrementally, and asks again. The host is never touched.
//
//	sudo go run ./examples/serviceproxy -mode nftables
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	opts := options{}
	flag.StringVar(&opts.Mode, "mode", "iptables", "proxy mode: iptables, nftables or ipvs")
	flag.IntVar(&opts.Requests, "requests", 30, "requests per service and phase")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "serviceproxy:", err)
		os.Exit(1)
	}
}
