// Package conntrack reads and changes the kernel's connection tracking
// table over ctnetlink: streaming dumps filtered in the kernel, single-flow
// get/create/update/delete, filtered bulk deletes, flushes, events,
// statistics and expectations.
//
// It is built for large tables: All streams flows with memory bounded by
// one netlink datagram, filters are pushed into the kernel (family,
// mark/mask, status/mask, zone and tuple fields through CTA_FILTER) and
// completed in Go, and DeleteMatching deletes what a filtered dump selects
// with pipelined requests on a second socket, instead of loading the table
// into memory and deleting one flow per round trip.
//
// Decoding walks attributes in place and allocates about one object per
// eight flows (optional parts come from shared blocks, see All). What is
// left of a dump's cost is the kernel building it, in the reader's
// recvmsg. Measured on 200 000 flows (Linux 6.18, BenchmarkDump200k, a
// shared 2-core machine): receiving the dump without decoding costs
// 2.6-3.0 µs of system time per flow, All 2.6-2.9 µs system plus 0.4-0.5
// µs user, `conntrack -L` 2.7-3.3 µs system plus 1.6-2.3 µs user. The
// kernel's share is the same for every reader: a dump datagram is capped
// at 32 KiB whatever the reader's buffer (conntrack -L reads 4 KiB ones,
// eight times as many, for the same system time), and an 8 MiB socket
// receive buffer changes nothing. So All runs at 1.5-1.7x `conntrack -L`
// in CPU and 1.6-1.9x in wall time, and cannot reach 2x: half of
// conntrack -L's time per flow is less than the kernel's own.
//
// # Network namespaces
//
// Config.NetNS binds the sockets inside another network namespace at dial
// time (Listen's event sockets too). No thread ever switches namespaces.
//
// # Concurrency
//
// A Conn is safe for concurrent use; requests on it are serialised. A dump
// holds the connection until it ends or the loop breaks. Listen opens its
// own socket per call, so event streams never block requests. A Batch is
// not safe for concurrent use.
//
// # Errors
//
// Bad input (a tuple without protocol, ports on ICMP, an IPv6 address in an
// IPv4 filter, a new flow without timeout...) is rejected before anything
// is sent, with an error wrapping ErrInvalid that names the field and
// value. Kernel refusals are *Error values with the operation, the flow,
// the errno and the kernel's message; errors.Is works with unix errnos and
// with fs.ErrNotExist (ENOENT) and fs.ErrExist (EEXIST). Listen yields
// ErrEventsLost when the kernel dropped events (ENOBUFS) and keeps going.
//
// # Atomicity
//
// ctnetlink has no transactions. A Batch is sent in order, many messages
// per system call, and each operation succeeds or fails on its own; the
// ones before a failure stay applied. DeleteMatching is likewise not
// atomic: flows created during it may or may not be deleted. Flush and
// FlushMatching are one kernel operation each, but flows keep being
// created by traffic while they run.
//
// # Kernel requirements
//
// ctnetlink (CONFIG_NF_CT_NETLINK). Dump filters by mark exist since
// Linux 2.6.x, by family and status since 5.x (CTA_STATUS_MASK 5.19),
// tuple and zone filters (CTA_FILTER) since 5.10 for dumps and 6.12 for
// flushes; on older kernels the unknown parts are ignored by the kernel and
// applied in Go, so results do not change, only speed. Measured on Linux
// 6.18: the IPv6 address comparison of CTA_FILTER is inverted (equal
// addresses are rejected), so IPv6 addresses are always matched in Go and
// never used in a filtered flush. Events need CONFIG_NF_CONNTRACK_EVENTS;
// counters need net.netfilter.nf_conntrack_acct=1 and timestamps
// nf_conntrack_timestamp=1.
package conntrack
