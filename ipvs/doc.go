// Package ipvs manages the kernel's IP Virtual Server over generic netlink:
// virtual services (address/protocol/port or firewall mark, IPv4 and IPv6),
// their real servers (masquerade, direct routing, tunnels with IPIP, GUE or
// GRE), schedulers and their flags, persistence, timeouts, sync daemons,
// 32- and 64-bit statistics, and `ipvsadm -S` / `ipvsadm -R` text (Save,
// ParseRules, and Restore, which applies -A/-E/-D/-a/-e/-d/-C/-Z lines in
// order like `ipvsadm -R`). It never runs ipvsadm.
//
//	c, err := ipvs.Dial(nil)
//	if errors.Is(err, ipvs.ErrNotSupported) { /* no ip_vs module */ }
//	_, err = c.Apply(ctx, []ipvs.Service{{
//		ServiceKey: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: vip, Port: 80},
//		Scheduler:  ipvs.RoundRobin,
//		Destinations: []ipvs.Destination{
//			{DestinationKey: ipvs.DestinationKey{Addr: rip1, Port: 8080}, Forward: ipvs.Masquerade, Weight: 1},
//		},
//	}}, &ipvs.ApplyOptions{Rollback: true})
//
// # Network namespaces
//
// IPVS state is per network namespace. Dial(&Config{NetNS: fd}) binds the
// socket (and the extra sockets ListServices uses) inside that namespace
// at dial time; no thread ever switches namespaces.
//
// # Concurrency
//
// A Conn is safe for concurrent use: requests on its socket are
// serialised and never interleave. ListServices reads destinations over a
// few extra sockets in parallel. A Batch is not safe for concurrent use.
//
// Listing cost: the kernel has no dump of all destinations, only one
// GET_DEST dump per service, and a socket runs one dump at a time, so a
// listing is (number of services) dump round trips of three syscalls each
// (request, data, done). BenchmarkListFloor takes it apart in the VM
// (qemu TCG, 2 vCPUs, 300 and 2 000 services x 10, ranges over runs on a
// shared host): a bare sendto/recvfrom loop from Go on one socket
// 0.2-0.35 ms per service (the kernel's share, and flat in the number of
// services); the same dumps through this package's socket layer without
// decoding 0.2-0.45 ms; ListServices with one socket 0.3-0.8 ms, with
// four (the default) 0.2-0.6 ms; `ipvsadm -Sn` 0.9-1.3 ms (it opens a
// socket and resolves the family for every service). So the kernel is not
// the floor; the emulated CPU's cost per syscall and per allocation is,
// which is why datagrams are read without a size peek (five syscalls per
// service before), destinations are decoded without allocating per
// attribute (about thirty allocations per destination before), and the
// destination sockets offer the kernel small reads (see destRecvSize: the
// kernel sizes every dump datagram by the largest read offered).
// BenchmarkList2000x10 gives ListServices 3.3-3.8x faster than ipvsadm -Sn
// (median 3.7x over three boots; 13.9 s vs 14.05 s before any of this).
//
// # Errors
//
// Bad input is rejected before any I/O with an error wrapping ErrInvalid
// that names the field and value (unknown scheduler, port 0 on a
// non-persistent address service, weight out of range, netmask out of
// range, firewall mark 0 without an address...). A kernel without IPVS
// gives ErrNotSupported from Dial, never a silent success. Kernel
// failures are *Error: IPVS answers ESRCH for a missing service, which
// matches fs.ErrNotExist, as do ENOENT answers; duplicates match
// fs.ErrExist.
//
// # Atomicity
//
// IPVS has no transactions. A Batch is pipelined (many operations per
// sendmsg, each acknowledged) and NOT atomic: operations before a failing
// one stay applied, and Commit reports each one's outcome. Apply computes
// the minimal change set, orders it so nothing is removed before what
// replaces it is in place, and can roll back what it applied when a later
// step fails; between its steps, other readers see intermediate states.
//
// # Kernel requirements
//
// The ip_vs module (and ip_vs_<scheduler> for each scheduler used; the
// kernel loads them on demand where module autoloading works). 64-bit
// statistics need Linux 4.1, destinations of another family than their
// service 3.18 (tunnel forwarding only), tunnel types and ports 5.2, the
// mh scheduler 4.18. Everything needs CAP_NET_ADMIN in the namespace.
package ipvs
