// Command serviceproxy is a kube-proxy-style service load balancer for a
// small list of services, in three modes that behave the same:
//
//   - iptables: KUBE-SERVICES / KUBE-SVC-* / KUBE-SEP-* chains with
//     statistic probabilities and DNAT, masquerade for hairpin traffic;
//   - nftables: a verdict map of services and numgen over endpoint chains;
//   - ipvs: VIPs on a dummy kube-ipvs0, IPVS virtual services with
//     masquerading real servers, ipsets KUBE-CLUSTER-IP and KUBE-LOOP-BACK,
//     and iptables rules with -m set that masquerade hairpin traffic.
//     It needs a kernel with IPVS (ip_vs); without one it says "IPVS not
//     available in this kernel" and exits with status 1.
//
// By default it builds its own little network of throwaway namespaces (a
// client, a node running the proxy rules, three backends) on documentation
// addresses, sends real requests through the virtual IPs and prints which
// backend answered; then it changes the endpoint list, updates the rules
// incrementally, and asks again. The host is never touched.
//
//	sudo go run ./examples/serviceproxy -mode nftables
//
// IPVS and ipset have no transactions, so the IPVS mode orders its update
// (new VIPs and set entries, then ipvs.Apply with rollback, then stale
// entries and VIPs) and says so in its output. This project's host kernel
// has no IPVS; its test runs in the VM runner:
//
//	go build -o bin/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -count=1 -tags vmtest -exec $PWD/bin/vmtest ./examples/serviceproxy/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/nfkit/nfkit/ipvs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainRun is main without the process: it parses args, runs, reports an
// error on stderr and returns the exit status.
func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serviceproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := options{}
	fs.StringVar(&opts.Mode, "mode", "iptables", "proxy mode: iptables, nftables or ipvs")
	fs.IntVar(&opts.Requests, "requests", 30, "requests per service and phase")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "per-request timeout (0: 2s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	err := run(ctx, stdout, opts)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ipvs.ErrNotSupported):
		// The usual case on a kernel built without IPVS or without the
		// ip_vs module loaded: say so plainly.
		fmt.Fprintf(stderr, "serviceproxy: IPVS not available in this kernel: load it (modprobe ip_vs) or use -mode iptables or -mode nftables\n(%v)\n", err)
	default:
		fmt.Fprintln(stderr, "serviceproxy:", err)
	}
	return 1
}
