package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Flow is one conntrack entry: both directions of a connection and the
// state the kernel keeps about it. Fields the kernel did not send are zero
// (or nil for the optional groups).
type Flow struct {
	Origin Tuple // CTA_TUPLE_ORIG: as the first packet saw it
	Reply  Tuple // CTA_TUPLE_REPLY: as replies are expected (after NAT)
	// Master is the tuple of the connection that expected this one
	// (related flows such as FTP data), nil otherwise.
	Master *Tuple

	// Zone separates otherwise identical tuples (CTA_ZONE). A zone that
	// applies to one direction only is in Origin.Zone or Reply.Zone.
	Zone    uint16
	Mark    uint32
	Secmark uint32 // CTA_SECMARK (obsolete; kept when the kernel sends it)
	SecCtx  string // CTA_SECCTX name (SELinux context)
	// Labels is the connlabel bitmap (up to 128 bits, byte 0 holds bits
	// 0-7), nil when none. LabelsMask, used on update only, selects the
	// bits to change.
	Labels, LabelsMask []byte
	Status             Status
	Timeout            uint32 // seconds left
	Use                uint32 // reference count
	ID                 uint32 // kernel's id for this entry; stable for its lifetime

	TCP  *TCPInfo
	SCTP *SCTPInfo
	DCCP *DCCPInfo

	SeqAdjOrig, SeqAdjReply *SeqAdj // NAT sequence adjustments
	Helper                  string  // CTA_HELP name, e.g. "ftp"
	HelperInfo              []byte  // CTA_HELP_INFO, helper private data

	CountersOrig, CountersReply *Counters // with nf_conntrack_acct=1
	Timestamp                   *Timestamp
	Synproxy                    *Synproxy

	// NATSrc and NATDst ask for source/destination NAT when creating a flow
	// (CTA_NAT_SRC/CTA_NAT_DST); the kernel does not report them back, the
	// translated addresses show in Reply.
	NATSrc, NATDst *NAT

	// Unknown top-level attributes, and unknown parts of the nests that
	// have no struct of their own (protocol info, help, secctx).
	Unknown []Attr
}

// Status is the IPS_* status bit set of a flow.
type Status uint32

// Status bits (enum ip_conntrack_status in linux/netfilter/nf_conntrack_common.h).
const (
	StatusExpected     Status = 1 << 0  // IPS_EXPECTED
	StatusSeenReply    Status = 1 << 1  // IPS_SEEN_REPLY
	StatusAssured      Status = 1 << 2  // IPS_ASSURED
	StatusConfirmed    Status = 1 << 3  // IPS_CONFIRMED
	StatusSrcNAT       Status = 1 << 4  // IPS_SRC_NAT
	StatusDstNAT       Status = 1 << 5  // IPS_DST_NAT
	StatusSeqAdjust    Status = 1 << 6  // IPS_SEQ_ADJUST
	StatusSrcNATDone   Status = 1 << 7  // IPS_SRC_NAT_DONE
	StatusDstNATDone   Status = 1 << 8  // IPS_DST_NAT_DONE
	StatusDying        Status = 1 << 9  // IPS_DYING
	StatusFixedTimeout Status = 1 << 10 // IPS_FIXED_TIMEOUT
	StatusTemplate     Status = 1 << 11 // IPS_TEMPLATE
	StatusUntracked    Status = 1 << 12 // IPS_UNTRACKED
	StatusHelper       Status = 1 << 13 // IPS_HELPER
	StatusOffload      Status = 1 << 14 // IPS_OFFLOAD
	StatusHWOffload    Status = 1 << 15 // IPS_HW_OFFLOAD
)

var statusNames = []string{"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT",
	"SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT", "TEMPLATE",
	"UNTRACKED", "HELPER", "OFFLOAD", "HW_OFFLOAD"}

func (s Status) String() string {
	if s == 0 {
		return "0"
	}
	var parts []string
	for i, n := range statusNames {
		if s&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := s &^ (1<<len(statusNames) - 1); rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(parts, "|")
}

// TCPState is the conntrack TCP state machine's state.
type TCPState uint8

// TCP states (enum tcp_conntrack).
const (
	TCPNone TCPState = iota
	TCPSynSent
	TCPSynRecv
	TCPEstablished
	TCPFinWait
	TCPCloseWait
	TCPLastAck
	TCPTimeWait
	TCPClose
	TCPSynSent2 // what `conntrack --state LISTEN` stores
)

var tcpStateNames = []string{"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"}

func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return fmt.Sprintf("tcpstate(%d)", uint8(s))
}

// TCPInfo is CTA_PROTOINFO_TCP.
type TCPInfo struct {
	State                   TCPState
	WScaleOrig, WScaleReply uint8
	FlagsOrig, FlagsReply   TCPFlags // on update, only set bits are changed
	Unknown                 []Attr
}

// TCPFlags is struct nf_ct_tcp_flags: the IP_CT_TCP_FLAG_* bits and a mask
// selecting which of them an update changes.
type TCPFlags struct {
	Flags, Mask uint8
}

// TCP flag bits (IP_CT_TCP_FLAG_*).
const (
	TCPFlagWindowScale     uint8 = 0x01
	TCPFlagSACKPerm        uint8 = 0x02
	TCPFlagCloseInit       uint8 = 0x04
	TCPFlagBeLiberal       uint8 = 0x08
	TCPFlagDataUnacknowled uint8 = 0x10
	TCPFlagMaxackSet       uint8 = 0x20
)

// SCTPInfo is CTA_PROTOINFO_SCTP.
type SCTPInfo struct {
	State               uint8 // enum sctp_conntrack
	VTagOrig, VTagReply uint32
	Unknown             []Attr
}

// DCCPInfo is CTA_PROTOINFO_DCCP.
type DCCPInfo struct {
	State        uint8 // enum ct_dccp_states
	Role         uint8
	HandshakeSeq uint64
	Unknown      []Attr
}

// Counters are the packets and bytes seen in one direction.
type Counters struct {
	Packets, Bytes uint64
	Unknown        []Attr
}

// Timestamp is when the flow started and (in destroy events) stopped, in
// nanoseconds since the epoch (needs net.netfilter.nf_conntrack_timestamp=1).
type Timestamp struct {
	Start, Stop uint64
	Unknown     []Attr
}

// StartTime returns Start as a time.Time.
func (t *Timestamp) StartTime() time.Time { return time.Unix(0, int64(t.Start)) }

// SeqAdj is one direction's TCP sequence adjustment after NAT helpers
// changed payload sizes.
type SeqAdj struct {
	CorrectionPos, OffsetBefore, OffsetAfter uint32
	Unknown                                  []Attr
}

// Synproxy is the SYN proxy state of a flow.
type Synproxy struct {
	ISN, ITS, TSOff uint32
	Unknown         []Attr
}

// NAT is a NAT range requested at flow creation.
type NAT struct {
	MinIP, MaxIP     netip.Addr
	MinPort, MaxPort uint16
	Unknown          []Attr
}

func (f *Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", f.Origin.Family(), f.Origin.Proto)
	if f.TCP != nil {
		fmt.Fprintf(&b, " %s", f.TCP.State)
	}
	fmt.Fprintf(&b, " src=%s dst=%s", f.Origin.Src, f.Origin.Dst)
	writeL4 := func(t Tuple) {
		switch {
		case t.Proto.hasPorts():
			fmt.Fprintf(&b, " sport=%d dport=%d", t.SrcPort, t.DstPort)
		case t.Proto.isICMP():
			fmt.Fprintf(&b, " type=%d code=%d id=%d", t.ICMPType, t.ICMPCode, t.ICMPID)
		}
	}
	writeL4(f.Origin)
	fmt.Fprintf(&b, " src=%s dst=%s", f.Reply.Src, f.Reply.Dst)
	writeL4(f.Reply)
	fmt.Fprintf(&b, " mark=%d zone=%d timeout=%d status=%s", f.Mark, f.Zone, f.Timeout, f.Status)
	return b.String()
}
