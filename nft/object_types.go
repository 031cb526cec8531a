package nft

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/nft/expr"
)

// Typed NFTA_OBJ_DATA of the stateful object types beyond counter and
// quota. Each type writes its attributes in the order the kernel dumps
// them (measured on 6.18); a listed object gets its typed field only when
// writing it again reproduces the dumped data (NLA_F_NESTED aside),
// otherwise it keeps Object.Data.

// LimitType is what a limit counts (enum nft_limit_type).
type LimitType uint32

const (
	LimitPackets LimitType = 0 // NFT_LIMIT_PKTS: `rate 10/second`
	LimitBytes   LimitType = 1 // NFT_LIMIT_PKT_BYTES: `rate 1 mbytes/second`
)

// Limit is a limit object (like `nft add limit inet t l '{ rate over
// 10/second burst 5 packets; }'`): Rate per Unit, with Burst.
type Limit struct {
	Rate  uint64
	Unit  time.Duration // a whole number of seconds (the kernel keeps seconds)
	Burst uint32
	Type  LimitType
	Over  bool // NFT_LIMIT_F_INV: `rate over`
}

// Connlimit is a connlimit object (NFT_OBJECT_CONNLIMIT: `ct count over
// N` as a named object; nft 1.0.6 has no syntax to create one).
type Connlimit struct {
	Count uint32
	Over  bool // NFT_CONNLIMIT_F_INV
}

// CTHelper is a conntrack helper object (like `nft add ct helper inet t
// h '{ type "ftp" protocol tcp; l3proto ip; }'`). L3Proto is an NFPROTO
// value (2 ip, 10 ip6, 1 inet); L4Proto an IP protocol number.
type CTHelper struct {
	Name    string
	L3Proto uint16
	L4Proto uint8
}

// CTTimeout is a conntrack timeout policy (like `nft add ct timeout inet t
// tm '{ protocol tcp; l3proto ip; policy = { established: 100 }; }'`).
// Policy maps the protocol's timeout attribute (CTA_TIMEOUT_TCP_*,
// CTA_TIMEOUT_UDP_*, ...: see CTTimeoutTCPEstablished etc.) to seconds.
// The kernel lists every state of the protocol, with its defaults for the
// states not given.
type CTTimeout struct {
	L3Proto uint16
	L4Proto uint8
	Policy  []CTTimeoutValue
}

// CTTimeoutValue is one state's timeout in a CTTimeout.
type CTTimeoutValue struct {
	State   uint16 // CTA_TIMEOUT_<PROTO>_<STATE>
	Seconds uint32
}

// TCP and UDP timeout states (CTA_TIMEOUT_TCP_* / CTA_TIMEOUT_UDP_*).
const (
	CTTimeoutTCPSynSent     uint16 = 1
	CTTimeoutTCPSynRecv     uint16 = 2
	CTTimeoutTCPEstablished uint16 = 3
	CTTimeoutTCPFinWait     uint16 = 4
	CTTimeoutTCPCloseWait   uint16 = 5
	CTTimeoutTCPLastAck     uint16 = 6
	CTTimeoutTCPTimeWait    uint16 = 7
	CTTimeoutTCPClose       uint16 = 8
	CTTimeoutTCPSynSent2    uint16 = 9
	CTTimeoutTCPRetrans     uint16 = 10
	CTTimeoutTCPUnack       uint16 = 11
	CTTimeoutUDPUnreplied   uint16 = 1
	CTTimeoutUDPReplied     uint16 = 2
)

// CTExpect is a conntrack expectation object (like `nft add ct
// expectation inet t e '{ protocol tcp; dport 21; timeout 1m; size 12;
// l3proto ip; }'`).
type CTExpect struct {
	L3Proto uint16
	L4Proto uint8
	DPort   uint16
	Timeout time.Duration // milliseconds on the wire
	Size    uint8
}

// Synproxy is a synproxy object (like `nft add synproxy inet t s '{ mss
// 1460; wscale 7; timestamp sack-perm; }'`); Flags are NF_SYNPROXY_OPT_*
// (SynproxyMSS, ...), nft sets MSS and WSCALE whenever it sends them.
type Synproxy struct {
	MSS    uint16
	Wscale uint8
	Flags  uint32
}

// Synproxy option flags (NF_SYNPROXY_OPT_*).
const (
	SynproxyMSS       uint32 = 0x01
	SynproxyWscale    uint32 = 0x02
	SynproxySackPerm  uint32 = 0x04
	SynproxyTimestamp uint32 = 0x08
	SynproxyECN       uint32 = 0x10
)

// Secmark is a secmark object (like `nft add secmark inet t s
// '"system_u:object_r:ssh_server_packet_t:s0"'`). The kernel accepts it
// only with an LSM that knows the context (SELinux, AppArmor, Smack).
type Secmark struct {
	Context string
}

// objData writes the typed NFTA_OBJ_DATA payload of o, reporting false
// when o has no typed field for its type. request selects the form nft
// 1.0.6 sends where it differs from the kernel's dump: ct helper and ct
// timeout protocols in the other order, the ct helper name and the secmark
// context without their NUL.
func (o *Object) objData(e *attr.Writer, request bool) bool {
	switch {
	case o.Type == ObjLimit && o.Limit != nil:
		l := o.Limit
		e.U64(attrLimitRate, l.Rate)
		e.U64(attrLimitUnit, uint64(l.Unit/time.Second))
		e.U32(attrLimitBurst, l.Burst)
		e.U32(attrLimitType, uint32(l.Type))
		e.U32(attrLimitFlags, boolFlag(l.Over))
	case o.Type == ObjConnlimit && o.Connlimit != nil:
		e.U32(attrConnlimitCount, o.Connlimit.Count)
		e.U32(attrConnlimitFlags, boolFlag(o.Connlimit.Over))
	case o.Type == ObjCTHelper && o.CTHelper != nil:
		h := o.CTHelper
		if request {
			e.Bytes(attrCTHelperName, []byte(h.Name))
			e.U16(attrCTHelperL3Proto, h.L3Proto)
			e.U8(attrCTHelperL4Proto, h.L4Proto)
		} else {
			e.String(attrCTHelperName, h.Name)
			e.U8(attrCTHelperL4Proto, h.L4Proto)
			e.U16(attrCTHelperL3Proto, h.L3Proto)
		}
	case o.Type == ObjCTTimeout && o.CTTimeout != nil:
		tm := o.CTTimeout
		if request {
			e.U16(attrCTTimeoutL3Proto, tm.L3Proto)
			e.U8(attrCTTimeoutL4Proto, tm.L4Proto)
		} else {
			e.U8(attrCTTimeoutL4Proto, tm.L4Proto)
			e.U16(attrCTTimeoutL3Proto, tm.L3Proto)
		}
		n := e.Begin(attrCTTimeoutData | attr.Nested)
		for _, v := range tm.Policy {
			e.U32(v.State, v.Seconds)
		}
		e.End(n)
	case o.Type == ObjCTExpect && o.CTExpect != nil:
		x := o.CTExpect
		e.U16(attrCTExpectL3Proto, x.L3Proto)
		e.U8(attrCTExpectL4Proto, x.L4Proto)
		e.U16(attrCTExpectDPort, x.DPort)
		// NFTA_CT_EXPECT_TIMEOUT is the one host-order integer here
		// (nla_put_u32 in the kernel, as libnftnl sends it).
		e.Bytes(attrCTExpectTimeout, binary.NativeEndian.AppendUint32(nil, uint32(x.Timeout/time.Millisecond)))
		e.U8(attrCTExpectSize, x.Size)
	case o.Type == ObjSynproxy && o.Synproxy != nil:
		s := o.Synproxy
		e.U16(attrSynproxyMSS, s.MSS)
		e.U8(attrSynproxyWscale, s.Wscale)
		e.U32(attrSynproxyFlags, s.Flags)
	case o.Type == ObjSecmark && o.Secmark != nil:
		if request {
			e.Bytes(attrSecmarkCtx, []byte(o.Secmark.Context))
		} else {
			e.String(attrSecmarkCtx, o.Secmark.Context)
		}
	default:
		return false
	}
	return true
}

// typedData sets the typed field of o from an NFTA_OBJ_DATA payload when
// it decodes exactly; it reports whether it did.
func (o *Object) typedData(data []byte) bool {
	t := Object{Type: o.Type}
	ok := true
	get := func(d []byte, n int) []byte {
		if len(d) != n {
			ok = false
			return make([]byte, n)
		}
		return d
	}
	u8 := func(d []byte) uint8 { return get(d, 1)[0] }
	u16 := func(d []byte) uint16 { return binary.BigEndian.Uint16(get(d, 2)) }
	u32 := func(d []byte) uint32 { return binary.BigEndian.Uint32(get(d, 4)) }
	u64 := func(d []byte) uint64 { return binary.BigEndian.Uint64(get(d, 8)) }
	err := attr.Walk(data, func(typ uint16, d []byte) error {
		typ &= attr.TypeMask
		switch o.Type {
		case ObjLimit:
			if t.Limit == nil {
				t.Limit = &Limit{}
			}
			switch typ {
			case attrLimitRate:
				t.Limit.Rate = u64(d)
			case attrLimitUnit:
				t.Limit.Unit = time.Duration(u64(d)) * time.Second
			case attrLimitBurst:
				t.Limit.Burst = u32(d)
			case attrLimitType:
				t.Limit.Type = LimitType(u32(d))
			case attrLimitFlags:
				t.Limit.Over = u32(d)&1 != 0
			}
		case ObjConnlimit:
			if t.Connlimit == nil {
				t.Connlimit = &Connlimit{}
			}
			switch typ {
			case attrConnlimitCount:
				t.Connlimit.Count = u32(d)
			case attrConnlimitFlags:
				t.Connlimit.Over = u32(d)&1 != 0
			}
		case ObjCTHelper:
			if t.CTHelper == nil {
				t.CTHelper = &CTHelper{}
			}
			switch typ {
			case attrCTHelperName:
				t.CTHelper.Name = getStr(d)
			case attrCTHelperL3Proto:
				t.CTHelper.L3Proto = u16(d)
			case attrCTHelperL4Proto:
				t.CTHelper.L4Proto = u8(d)
			}
		case ObjCTTimeout:
			if t.CTTimeout == nil {
				t.CTTimeout = &CTTimeout{}
			}
			switch typ {
			case attrCTTimeoutL3Proto:
				t.CTTimeout.L3Proto = u16(d)
			case attrCTTimeoutL4Proto:
				t.CTTimeout.L4Proto = u8(d)
			case attrCTTimeoutData:
				t.CTTimeout.Policy = []CTTimeoutValue{}
				return attr.Walk(d, func(st uint16, d []byte) error {
					t.CTTimeout.Policy = append(t.CTTimeout.Policy, CTTimeoutValue{st & attr.TypeMask, u32(d)})
					return nil
				})
			}
		case ObjCTExpect:
			if t.CTExpect == nil {
				t.CTExpect = &CTExpect{}
			}
			switch typ {
			case attrCTExpectL3Proto:
				t.CTExpect.L3Proto = u16(d)
			case attrCTExpectL4Proto:
				t.CTExpect.L4Proto = u8(d)
			case attrCTExpectDPort:
				t.CTExpect.DPort = u16(d)
			case attrCTExpectTimeout:
				t.CTExpect.Timeout = time.Duration(binary.NativeEndian.Uint32(get(d, 4))) * time.Millisecond
			case attrCTExpectSize:
				t.CTExpect.Size = u8(d)
			}
		case ObjSynproxy:
			if t.Synproxy == nil {
				t.Synproxy = &Synproxy{}
			}
			switch typ {
			case attrSynproxyMSS:
				t.Synproxy.MSS = u16(d)
			case attrSynproxyWscale:
				t.Synproxy.Wscale = u8(d)
			case attrSynproxyFlags:
				t.Synproxy.Flags = u32(d)
			}
		case ObjSecmark:
			if t.Secmark == nil {
				t.Secmark = &Secmark{}
			}
			if typ == attrSecmarkCtx {
				t.Secmark.Context = getStr(d)
			}
		default:
			ok = false
		}
		return nil
	})
	if err != nil || !ok {
		return false
	}
	var e attr.Writer
	if !t.objData(&e, false) || !expr.SameAttrs(e.Buf, data) {
		return false
	}
	o.Limit, o.Connlimit, o.CTHelper, o.CTTimeout = t.Limit, t.Connlimit, t.CTHelper, t.CTTimeout
	o.CTExpect, o.Synproxy, o.Secmark = t.CTExpect, t.Synproxy, t.Secmark
	return true
}

// validateData checks the typed fields before anything is sent.
func (o *Object) validateData() error {
	typed := 0
	for _, set := range []bool{o.Counter != nil, o.Quota != nil, o.Limit != nil, o.Connlimit != nil,
		o.CTHelper != nil, o.CTTimeout != nil, o.CTExpect != nil, o.Synproxy != nil, o.Secmark != nil} {
		if set {
			typed++
		}
	}
	if typed > 1 {
		return fmt.Errorf("%w: %v: more than one typed object field set", ErrInvalid, o)
	}
	bad := func(what string, v any) error {
		return fmt.Errorf("%w: %v: %s %v", ErrInvalid, o, what, v)
	}
	want := map[ObjType]bool{ObjCounter: o.Counter != nil, ObjQuota: o.Quota != nil, ObjLimit: o.Limit != nil,
		ObjConnlimit: o.Connlimit != nil, ObjCTHelper: o.CTHelper != nil, ObjCTTimeout: o.CTTimeout != nil,
		ObjCTExpect: o.CTExpect != nil, ObjSynproxy: o.Synproxy != nil, ObjSecmark: o.Secmark != nil}
	if typed == 1 && !want[o.Type] {
		return fmt.Errorf("%w: %v: typed field does not match object type %v", ErrInvalid, o, o.Type)
	}
	switch {
	case o.Limit != nil:
		if o.Limit.Rate == 0 {
			return bad("limit rate", 0)
		}
		if o.Limit.Unit < time.Second || o.Limit.Unit%time.Second != 0 {
			return bad("limit unit", o.Limit.Unit)
		}
		if o.Limit.Type > LimitBytes {
			return bad("limit type", o.Limit.Type)
		}
	case o.CTHelper != nil:
		if o.CTHelper.Name == "" || len(o.CTHelper.Name) >= 16 {
			return bad("ct helper name", fmt.Sprintf("%q (1 to 15 bytes)", o.CTHelper.Name))
		}
		if o.CTHelper.L4Proto == 0 {
			return bad("ct helper protocol", 0)
		}
	case o.CTTimeout != nil:
		if o.CTTimeout.L4Proto == 0 {
			return bad("ct timeout protocol", 0)
		}
		for _, v := range o.CTTimeout.Policy {
			if v.State == 0 || v.State&^attr.TypeMask != 0 {
				return bad("ct timeout state", v.State)
			}
		}
	case o.CTExpect != nil:
		if o.CTExpect.L4Proto == 0 {
			return bad("ct expectation protocol", 0)
		}
		if o.CTExpect.Timeout < 0 || o.CTExpect.Timeout%time.Millisecond != 0 || o.CTExpect.Timeout/time.Millisecond > 1<<32-1 {
			return bad("ct expectation timeout", o.CTExpect.Timeout)
		}
	case o.Synproxy != nil:
		if o.Synproxy.Wscale > 14 {
			return bad("synproxy wscale", o.Synproxy.Wscale)
		}
	case o.Secmark != nil:
		if o.Secmark.Context == "" || len(o.Secmark.Context) > 4095 {
			return bad("secmark context length", len(o.Secmark.Context))
		}
	}
	return nil
}

func boolFlag(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// Object data attributes (nf_tables.h enums of each object type).
const (
	attrLimitRate  = 1 // NFTA_LIMIT_RATE
	attrLimitUnit  = 2 // NFTA_LIMIT_UNIT
	attrLimitBurst = 3 // NFTA_LIMIT_BURST
	attrLimitType  = 4 // NFTA_LIMIT_TYPE
	attrLimitFlags = 5 // NFTA_LIMIT_FLAGS

	attrConnlimitCount = 1 // NFTA_CONNLIMIT_COUNT
	attrConnlimitFlags = 2 // NFTA_CONNLIMIT_FLAGS

	attrCTHelperName    = 1 // NFTA_CT_HELPER_NAME
	attrCTHelperL3Proto = 2 // NFTA_CT_HELPER_L3PROTO
	attrCTHelperL4Proto = 3 // NFTA_CT_HELPER_L4PROTO

	attrCTTimeoutL3Proto = 1 // NFTA_CT_TIMEOUT_L3PROTO
	attrCTTimeoutL4Proto = 2 // NFTA_CT_TIMEOUT_L4PROTO
	attrCTTimeoutData    = 3 // NFTA_CT_TIMEOUT_DATA

	attrCTExpectL3Proto = 1 // NFTA_CT_EXPECT_L3PROTO
	attrCTExpectL4Proto = 2 // NFTA_CT_EXPECT_L4PROTO
	attrCTExpectDPort   = 3 // NFTA_CT_EXPECT_DPORT
	attrCTExpectTimeout = 4 // NFTA_CT_EXPECT_TIMEOUT
	attrCTExpectSize    = 5 // NFTA_CT_EXPECT_SIZE

	attrSynproxyMSS    = 1 // NFTA_SYNPROXY_MSS
	attrSynproxyWscale = 2 // NFTA_SYNPROXY_WSCALE
	attrSynproxyFlags  = 3 // NFTA_SYNPROXY_FLAGS

	attrSecmarkCtx = 1 // NFTA_SECMARK_CTX
)
