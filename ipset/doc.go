// Package ipset manages the kernel's IP sets over netlink
// (NFNL_SUBSYS_IPSET on NETLINK_NETFILTER), without the ipset binary: every
// set type, create/destroy/flush/rename/swap, add/del/test, streaming
// listings, bulk loading with many entries per message, atomic content
// replacement, and the `ipset save` / `ipset restore` text format.
//
//	c, err := ipset.Dial(nil)
//	err = c.Create(ctx, ipset.Set{Name: "web", Type: ipset.HashIPPort, Timeout: time.Hour})
//	err = c.Add(ctx, "web", ipset.Entry{Addr: addr, Proto: ipset.ProtoTCP, Port: 443})
//	err = c.ReplaceSet(ctx, set, entries) // atomic for packets
//
// # Set types
//
// Entries are typed; which Entry fields a type takes:
//
//	bitmap:ip          Addr (or Addr-AddrTo, Prefix: expanded)       create: RangeFrom/RangeTo, NetMask
//	bitmap:ip,mac      Addr, MAC (optional)                          create: RangeFrom/RangeTo
//	bitmap:port        Port (or Port-PortTo)                         create: PortFrom/PortTo
//	hash:ip            Addr (or range/Prefix, IPv4: expanded)        create: NetMask or BitMask
//	hash:mac           MAC
//	hash:ip,mac        Addr, MAC
//	hash:net           Prefix (or Addr-AddrTo, IPv4: split in CIDRs), NoMatch
//	hash:net,net       Prefix, Prefix2, NoMatch                      create: BitMask
//	hash:ip,port       Addr, Proto:Port[-PortTo]                     create: BitMask
//	hash:net,port      Prefix, Proto:Port[-PortTo], NoMatch
//	hash:ip,port,ip    Addr, Proto:Port, Addr2
//	hash:ip,port,net   Addr, Proto:Port, Prefix2, NoMatch
//	hash:ip,mark       Addr, Mark                                    create: MarkMask
//	hash:net,port,net  Prefix, Proto:Port, Prefix2, NoMatch
//	hash:net,iface     Prefix, Iface (Physdev), NoMatch
//	list:set           Set, Before or After
//
// Every type takes the extensions its set was created with: Timeout,
// Packets/Bytes (Counters), Comment, SkbMark/SkbPrio/SkbQueue (SkbInfo).
// Ranges are sent as ranges and expanded by the kernel, exactly as the
// ipset CLI has them expanded. The revision of a type is not hard-coded:
// Create asks the kernel for the highest one it has (IPSET_CMD_TYPE), and
// Dial negotiates the protocol version (6 or 7, IPSET_CMD_PROTOCOL).
//
// # Network namespaces
//
// Config.NetNS binds the socket inside another network namespace at dial
// time; everything the Conn does then happens there. No thread ever
// switches namespaces.
//
// # Concurrency
//
// A Conn is safe for concurrent use: each exchange holds the socket for
// its duration. A Batch is a plain value and is not safe for concurrent
// use. Iterators (All, Dump, Entries) hold the socket until they finish or
// the loop breaks (the rest of the dump is then drained).
//
// # Errors
//
// Input that cannot be right (a name over 31 bytes, an entry field the set
// type does not have, an IPv6 address in an inet set, a port range upside
// down, a timeout on a set without timeout support...) is an error
// wrapping ErrInvalid that names the field, returned before anything is
// sent. Entry operations read the set's header first to check entries
// against it, as the ipset CLI does.
//
// The kernel's refusals are *Error values (operation, set, errno, extended
// ack). ipset's private errnos (from 4096, and per-type ones from 4352) are
// mapped so that errors.Is works: ErrSetExists and fs.ErrExist,
// ErrSetNotFound and fs.ErrNotExist, ErrEntryExists, ErrEntryMissing,
// ErrSetInUse, ErrTypeMismatch, ErrTimeoutUnsupported, ErrSetFull,
// ErrTypeUnsupported... The kernel answers an address of the wrong family
// in an entry with a protocol error (ErrProtocol); nfkit catches it before
// sending.
//
// # Atomicity
//
// ipset has no transactions. A Batch (and Add/Delete with many entries) is
// applied in order and is NOT atomic: by default it stops at the first
// refused entry, and the *BatchError says exactly which entries were
// applied (all before the failing one), which failed, and which were
// skipped. The kernel reports the failing entry's line number inside each
// multi-entry message, which is what makes the report exact.
//
// The atomic way to change a set's contents is ReplaceSet: a temporary set
// of the same type is created and filled, swapped with the set in one
// kernel operation (rules see the old contents or the new ones, never a
// mix), and destroyed. If filling fails, the set is untouched. Restore
// applies a save file as one non-atomic batch.
//
// # Kernel requirements
//
// CONFIG_IP_SET and the ip_set_TYPE modules; protocol 6 or 7 (Linux 3.x
// and later). Bucketsize needs Linux 5.11, bitmask 6.1. Some kernels are
// built without some types (this project's CI kernel lacks hash:mac,
// hash:ip,mac, hash:ip,mark, hash:net,net and hash:net,port,net): Create
// then fails with ErrTypeUnsupported. Listing forceadd needs no special
// kernel, but note that ipset 7.17 does not print it in `ipset save` while
// the kernel reports it and WriteSave prints it. Destroy of a missing set
// is an error only because nfkit sends NLM_F_EXCL, as the CLI does: newer
// kernels read its absence as -exist.
package ipset
