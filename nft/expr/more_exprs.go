package expr

import ()

// Byteorder converts Len bytes of SourceRegister between host and network
// order in Size-byte words (nft inserts it for `meta mark . ip saddr`
// concatenations and arithmetic on header fields).
type Byteorder struct {
	SourceRegister Register
	DestRegister   Register
	Op             uint32 // NFT_BYTEORDER_NTOH (0) or NFT_BYTEORDER_HTON (1)
	Len            uint32
	Size           uint32 // 2, 4 or 8
}

func (b *Byteorder) Name() string { return "byteorder" }
func (b *Byteorder) fields() []field {
	return []field{regf(1, &b.SourceRegister, nil), regf(2, &b.DestRegister, nil), u32f(3, &b.Op, nil),
		u32f(4, &b.Len, nil), u32f(5, &b.Size, nil)}
}
func (b *Byteorder) validate() error {
	if b.Op > 1 || (b.Size != 2 && b.Size != 4 && b.Size != 8) || b.Len == 0 || b.Len > maxData {
		return invalidf("byteorder op %d size %d len %d", b.Op, b.Size, b.Len)
	}
	if err := checkReg("byteorder source", b.SourceRegister, int(b.Len), false); err != nil {
		return err
	}
	return checkReg("byteorder destination", b.DestRegister, int(b.Len), false)
}
func (b *Byteorder) marshal(ae *enc) error   { return putFields(ae, b.fields()) }
func (b *Byteorder) unmarshal(ad *dec) error { return getFields(ad, b.fields()) }

// Hash types (enum nft_hash_types).
const (
	HashJenkins uint32 = 0 // NFT_HASH_JENKINS: `jhash ip saddr mod 4 seed 0x1`
	HashSym     uint32 = 1 // NFT_HASH_SYM: `symhash mod 2`
)

// Hash writes hash(key) mod Modulus + Offset to DestRegister.
type Hash struct {
	SourceRegister Register // jhash only
	DestRegister   Register
	Len            uint32 // jhash only
	Modulus        uint32
	Seed           uint32 // jhash; SeedSet false means the kernel chose one
	SeedSet        bool
	Offset         uint32
	Type           uint32
}

func (h *Hash) Name() string { return "hash" }
func (h *Hash) fields() []field {
	jh := func() bool { return h.Type != HashJenkins }
	return []field{regf(1, &h.SourceRegister, jh), regf(2, &h.DestRegister, nil), u32f(3, &h.Len, jh),
		u32f(4, &h.Modulus, nil),
		{5, func() bool { return jh() || !h.SeedSet }, func(ae *enc, t uint16) { ae.Uint32(t, h.Seed) },
			func(ad *dec) { h.Seed, h.SeedSet = ad.Uint32(), true }},
		u32f(6, &h.Offset, u32Zero(&h.Offset)), u32f(7, &h.Type, nil)}
}
func (h *Hash) validate() error {
	if h.Modulus == 0 || h.Type > HashSym {
		return invalidf("hash type %d modulus %d", h.Type, h.Modulus)
	}
	if h.Type == HashJenkins {
		if h.Len == 0 || h.Len > maxData {
			return invalidf("jhash len %d", h.Len)
		}
		if err := checkReg("hash source", h.SourceRegister, int(h.Len), false); err != nil {
			return err
		}
	}
	return checkReg("hash destination", h.DestRegister, 4, false)
}
func (h *Hash) marshal(ae *enc) error   { return putFields(ae, h.fields()) }
func (h *Hash) unmarshal(ad *dec) error { return getFields(ad, h.fields()) }

// Rt keys (enum nft_rt_keys).
const (
	RtClassid  uint32 = 0
	RtNexthop4 uint32 = 1
	RtNexthop6 uint32 = 2
	RtTCPMSS   uint32 = 3
	RtXfrm     uint32 = 4
)

// Rt loads routing information (nft's `rt nexthop`, `rt mtu`, `rt ipsec`).
type Rt struct {
	Key          uint32
	DestRegister Register
}

func (r *Rt) Name() string    { return "rt" }
func (r *Rt) fields() []field { return []field{u32f(2, &r.Key, nil), regf(1, &r.DestRegister, nil)} }
func (r *Rt) validate() error {
	if r.Key > RtXfrm {
		return invalidf("rt key %d", r.Key)
	}
	return checkReg("rt destination", r.DestRegister, 4, false)
}
func (r *Rt) marshal(ae *enc) error   { return putFields(ae, r.fields()) }
func (r *Rt) unmarshal(ad *dec) error { return getFields(ad, r.fields()) }

// Exthdr ops (enum nft_exthdr_op).
const (
	ExthdrIPv6   uint32 = 0
	ExthdrTCPOpt uint32 = 1
	ExthdrIPv4   uint32 = 2
	ExthdrSCTP   uint32 = 3
	ExthdrDCCP   uint32 = 4
)

// ExthdrFlagPresent (NFT_EXTHDR_F_PRESENT) loads a boolean "present".
const ExthdrFlagPresent uint32 = 1

// Exthdr loads (DestRegister), writes (SourceRegister) or, with neither,
// removes (`reset tcp option`) an extension header or option field: IPv6
// extension headers, TCP options, IPv4 options, SCTP chunks, DCCP options.
type Exthdr struct {
	DestRegister   Register
	SourceRegister Register
	Type           uint8
	Offset         uint32
	Len            uint32
	Flags          uint32
	Op             uint32
}

func (e *Exthdr) Name() string { return "exthdr" }
func (e *Exthdr) fields() []field {
	return []field{regf(1, &e.DestRegister, regZero(&e.DestRegister)), regf(7, &e.SourceRegister, regZero(&e.SourceRegister)),
		u8f(2, &e.Type, nil), u32f(3, &e.Offset, nil), u32f(4, &e.Len, nil), u32f(5, &e.Flags, nil), u32f(6, &e.Op, nil)}
}
func (e *Exthdr) validate() error {
	if e.Op > ExthdrDCCP || e.Flags&^ExthdrFlagPresent != 0 || e.Len > maxData {
		return invalidf("exthdr op %d flags %#x len %d", e.Op, e.Flags, e.Len)
	}
	if e.DestRegister != 0 && e.SourceRegister != 0 {
		return invalidf("exthdr with both source %s and destination %s", e.SourceRegister, e.DestRegister)
	}
	if e.DestRegister != 0 {
		return checkReg("exthdr destination", e.DestRegister, int(e.Len), false)
	}
	if e.SourceRegister != 0 {
		return checkReg("exthdr source", e.SourceRegister, int(e.Len), false)
	}
	return nil
}
func (e *Exthdr) marshal(ae *enc) error   { return putFields(ae, e.fields()) }
func (e *Exthdr) unmarshal(ad *dec) error { return getFields(ad, e.fields()) }

// Queue flags (NFT_QUEUE_FLAG_*).
const (
	QueueBypass    uint16 = 1
	QueueCPUFanout uint16 = 2
)

// Queue hands the packet to user space on queue Num..Num+Total-1 (nft's
// `queue num 2-3 bypass`), or on the queue in SourceRegister (`queue to
// numgen inc mod 4`). This kernel has no nft_queue: covered by fixtures
// and google/nftables bytes only.
type Queue struct {
	Num            uint16
	Total          uint16
	Flags          uint16
	SourceRegister Register
}

func (q *Queue) Name() string { return "queue" }
func (q *Queue) fields() []field {
	imm := func() bool { return q.SourceRegister != 0 }
	return []field{u16f(1, &q.Num, imm), u16f(2, &q.Total, imm), u16f(3, &q.Flags, nil), regf(4, &q.SourceRegister, regZero(&q.SourceRegister))}
}
func (q *Queue) validate() error {
	if q.Flags&^3 != 0 {
		return invalidf("queue flags %#x", q.Flags)
	}
	if q.SourceRegister != 0 {
		if q.Num != 0 || q.Total != 0 {
			return invalidf("queue with register %s and number %d", q.SourceRegister, q.Num)
		}
		return checkReg("queue source", q.SourceRegister, 2, false)
	}
	if q.Total == 0 {
		return invalidf("queue total 0")
	}
	return nil
}
func (q *Queue) marshal(ae *enc) error   { return putFields(ae, q.fields()) }
func (q *Queue) unmarshal(ad *dec) error { return getFields(ad, q.fields()) }

// Connlimit matches on the number of connections (nft's `ct count over
// 10`); Flags 1 is NFT_CONNLIMIT_F_INV (`over`).
type Connlimit struct {
	Count uint32
	Flags uint32
}

func (c *Connlimit) Name() string    { return "connlimit" }
func (c *Connlimit) fields() []field { return []field{u32f(1, &c.Count, nil), u32f(2, &c.Flags, nil)} }
func (c *Connlimit) validate() error {
	if c.Flags&^1 != 0 {
		return invalidf("connlimit flags %#x", c.Flags)
	}
	return nil
}
func (c *Connlimit) marshal(ae *enc) error   { return putFields(ae, c.fields()) }
func (c *Connlimit) unmarshal(ad *dec) error { return getFields(ad, c.fields()) }

// Secmark sets the packet's security context (nft's `meta secmark set
// "name"` on an object; the expression form carries the context).
type Secmark struct{ Ctx string }

func (s *Secmark) Name() string            { return "secmark" }
func (s *Secmark) fields() []field         { return []field{strf(1, &s.Ctx, nil)} }
func (s *Secmark) validate() error         { return checkName("secmark context", s.Ctx) }
func (s *Secmark) marshal(ae *enc) error   { return putFields(ae, s.fields()) }
func (s *Secmark) unmarshal(ad *dec) error { return getFields(ad, s.fields()) }

// Socket keys (enum nft_socket_keys).
const (
	SocketTransparent uint32 = 0
	SocketMark        uint32 = 1
	SocketWildcard    uint32 = 2
	SocketCgroupv2    uint32 = 3
)

// Socket loads information about the packet's local socket (nft's `socket
// transparent 1`, `socket cgroupv2 level 1 "x"`).
type Socket struct {
	Key          uint32
	DestRegister Register
	Level        uint32 // cgroupv2 only
}

func (s *Socket) Name() string { return "socket" }
func (s *Socket) fields() []field {
	return []field{u32f(1, &s.Key, nil), regf(2, &s.DestRegister, nil),
		u32f(3, &s.Level, func() bool { return s.Key != SocketCgroupv2 })}
}
func (s *Socket) validate() error {
	if s.Key > SocketCgroupv2 || (s.Key != SocketCgroupv2 && s.Level != 0) {
		return invalidf("socket key %d level %d", s.Key, s.Level)
	}
	return checkReg("socket destination", s.DestRegister, 4, false)
}
func (s *Socket) marshal(ae *enc) error   { return putFields(ae, s.fields()) }
func (s *Socket) unmarshal(ad *dec) error { return getFields(ad, s.fields()) }

// Synproxy answers SYNs with cookies (nft's `synproxy mss 1460 wscale 7
// timestamp sack-perm`); Flags are NF_SYNPROXY_OPT_*.
type Synproxy struct {
	MSS    uint16
	Wscale uint8
	Flags  uint32
}

func (s *Synproxy) Name() string { return "synproxy" }
func (s *Synproxy) fields() []field {
	return []field{u16f(1, &s.MSS, nil), u8f(2, &s.Wscale, nil), u32f(3, &s.Flags, nil)}
}
func (s *Synproxy) validate() error         { return nil }
func (s *Synproxy) marshal(ae *enc) error   { return putFields(ae, s.fields()) }
func (s *Synproxy) unmarshal(ad *dec) error { return getFields(ad, s.fields()) }

// Tproxy redirects to a local transparent socket (nft's `tproxy ip to
// 127.0.0.1:8080`); Family is NFPROTO_IPV4/IPV6 or NFPROTO_UNSPEC (inet,
// port only).
type Tproxy struct {
	Family  uint32
	RegAddr Register
	RegPort Register
}

func (t *Tproxy) Name() string { return "tproxy" }
func (t *Tproxy) fields() []field {
	return []field{u32f(1, &t.Family, nil), regf(2, &t.RegAddr, regZero(&t.RegAddr)), regf(3, &t.RegPort, regZero(&t.RegPort))}
}
func (t *Tproxy) validate() error {
	if t.Family != 0 && t.Family != 2 && t.Family != 10 {
		return invalidf("tproxy family %d", t.Family)
	}
	if t.RegAddr == 0 && t.RegPort == 0 {
		return invalidf("tproxy without address or port register")
	}
	return nil
}
func (t *Tproxy) marshal(ae *enc) error   { return putFields(ae, t.fields()) }
func (t *Tproxy) unmarshal(ad *dec) error { return getFields(ad, t.fields()) }

// Xfrm loads IPsec state (nft's `ipsec in reqid 1`, `ipsec out ip daddr`):
// Key is enum nft_xfrm_keys, Dir XFRM_POLICY_IN (0) or OUT (1), SPNum the
// state's position in the security path.
type Xfrm struct {
	DestRegister Register
	Key          uint32
	Dir          uint8
	SPNum        uint32
}

func (x *Xfrm) Name() string { return "xfrm" }
func (x *Xfrm) fields() []field {
	return []field{regf(1, &x.DestRegister, nil), u32f(2, &x.Key, nil), u8f(3, &x.Dir, nil), u32f(4, &x.SPNum, nil)}
}
func (x *Xfrm) validate() error {
	if x.Key == 0 || x.Key > 6 || x.Dir > 1 {
		return invalidf("xfrm key %d dir %d", x.Key, x.Dir)
	}
	return checkReg("xfrm destination", x.DestRegister, 4, false)
}
func (x *Xfrm) marshal(ae *enc) error   { return putFields(ae, x.fields()) }
func (x *Xfrm) unmarshal(ad *dec) error { return getFields(ad, x.fields()) }

// Dup duplicates the packet to the address in RegAddr via the device in
// RegDev (nft's `dup to 192.0.2.1 device "eth0"`).
type Dup struct {
	RegAddr Register
	RegDev  Register
}

func (d *Dup) Name() string { return "dup" }
func (d *Dup) fields() []field {
	return []field{regf(1, &d.RegAddr, regZero(&d.RegAddr)), regf(2, &d.RegDev, regZero(&d.RegDev))}
}
func (d *Dup) validate() error         { return checkOptRegPair("dup", d.RegAddr, d.RegDev) }
func (d *Dup) marshal(ae *enc) error   { return putFields(ae, d.fields()) }
func (d *Dup) unmarshal(ad *dec) error { return getFields(ad, d.fields()) }

// Fwd forwards from the netdev ingress to the device in RegDev (nft's `fwd
// to "eth1"`, `fwd ip to 192.0.2.1 device "eth1"` with RegAddr and
// NFProto).
type Fwd struct {
	RegDev  Register
	RegAddr Register
	NFProto uint32
}

func (f *Fwd) Name() string { return "fwd" }
func (f *Fwd) fields() []field {
	return []field{regf(1, &f.RegDev, nil), regf(2, &f.RegAddr, regZero(&f.RegAddr)), u32f(3, &f.NFProto, regZero(&f.RegAddr))}
}
func (f *Fwd) validate() error         { return checkReg("fwd device", f.RegDev, 4, false) }
func (f *Fwd) marshal(ae *enc) error   { return putFields(ae, f.fields()) }
func (f *Fwd) unmarshal(ad *dec) error { return getFields(ad, f.fields()) }

// Last records when the rule last matched (nft's `last used 1s`): Set is 1
// once it has matched, MSecs the time since then.
type Last struct {
	Set   uint32
	MSecs uint64
}

func (l *Last) Name() string    { return "last" }
func (l *Last) fields() []field { return []field{u32f(1, &l.Set, nil), u64f(2, &l.MSecs, nil)} }
func (l *Last) validate() error {
	if l.Set > 1 {
		return invalidf("last set %d", l.Set)
	}
	return nil
}
func (l *Last) marshal(ae *enc) error   { return putFields(ae, l.fields()) }
func (l *Last) unmarshal(ad *dec) error { return getFields(ad, l.fields()) }

// FlowOffload adds the connection to a flowtable (nft's `flow add @ft`).
type FlowOffload struct{ Table string }

func (f *FlowOffload) Name() string            { return "flow_offload" }
func (f *FlowOffload) fields() []field         { return []field{strf(1, &f.Table, nil)} }
func (f *FlowOffload) validate() error         { return checkName("flow offload table", f.Table) }
func (f *FlowOffload) marshal(ae *enc) error   { return putFields(ae, f.fields()) }
func (f *FlowOffload) unmarshal(ad *dec) error { return getFields(ad, f.fields()) }
