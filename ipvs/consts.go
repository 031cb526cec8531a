package ipvs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Generic netlink family and commands, from linux/ip_vs.h.
const (
	genlName    = "IPVS" // IPVS_GENL_NAME
	genlVersion = 1      // IPVS_GENL_VERSION
)

type command uint8

const (
	cmdNewService command = 1  // IPVS_CMD_NEW_SERVICE
	cmdSetService command = 2  // IPVS_CMD_SET_SERVICE
	cmdDelService command = 3  // IPVS_CMD_DEL_SERVICE
	cmdGetService command = 4  // IPVS_CMD_GET_SERVICE
	cmdNewDest    command = 5  // IPVS_CMD_NEW_DEST
	cmdSetDest    command = 6  // IPVS_CMD_SET_DEST
	cmdDelDest    command = 7  // IPVS_CMD_DEL_DEST
	cmdGetDest    command = 8  // IPVS_CMD_GET_DEST
	cmdNewDaemon  command = 9  // IPVS_CMD_NEW_DAEMON
	cmdDelDaemon  command = 10 // IPVS_CMD_DEL_DAEMON
	cmdGetDaemon  command = 11 // IPVS_CMD_GET_DAEMON
	cmdSetConfig  command = 12 // IPVS_CMD_SET_CONFIG
	cmdGetConfig  command = 13 // IPVS_CMD_GET_CONFIG
	cmdGetInfo    command = 15 // IPVS_CMD_GET_INFO
	cmdZero       command = 16 // IPVS_CMD_ZERO
	cmdFlush      command = 17 // IPVS_CMD_FLUSH
)

// Top-level attributes (IPVS_CMD_ATTR_*).
const (
	attrService       = 1 // IPVS_CMD_ATTR_SERVICE
	attrDest          = 2 // IPVS_CMD_ATTR_DEST
	attrDaemon        = 3 // IPVS_CMD_ATTR_DAEMON
	attrTimeoutTCP    = 4 // IPVS_CMD_ATTR_TIMEOUT_TCP
	attrTimeoutTCPFin = 5 // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN
	attrTimeoutUDP    = 6 // IPVS_CMD_ATTR_TIMEOUT_UDP
)

// Service attributes (IPVS_SVC_ATTR_*). Integers are host byte order,
// ports network order, addresses 16 bytes (union nf_inet_addr).
const (
	svcAF       = 1  // IPVS_SVC_ATTR_AF (u16)
	svcProtocol = 2  // IPVS_SVC_ATTR_PROTOCOL (u16)
	svcAddr     = 3  // IPVS_SVC_ATTR_ADDR
	svcPort     = 4  // IPVS_SVC_ATTR_PORT (be16)
	svcFWMark   = 5  // IPVS_SVC_ATTR_FWMARK (u32)
	svcSched    = 6  // IPVS_SVC_ATTR_SCHED_NAME
	svcFlags    = 7  // IPVS_SVC_ATTR_FLAGS (struct ip_vs_flags)
	svcTimeout  = 8  // IPVS_SVC_ATTR_TIMEOUT (u32 seconds)
	svcNetmask  = 9  // IPVS_SVC_ATTR_NETMASK (be32 mask for IPv4, prefix length for IPv6)
	svcStats    = 10 // IPVS_SVC_ATTR_STATS
	svcPEName   = 11 // IPVS_SVC_ATTR_PE_NAME
	svcStats64  = 12 // IPVS_SVC_ATTR_STATS64
)

// Destination attributes (IPVS_DEST_ATTR_*).
const (
	dstAddr         = 1  // IPVS_DEST_ATTR_ADDR
	dstPort         = 2  // IPVS_DEST_ATTR_PORT (be16)
	dstFwdMethod    = 3  // IPVS_DEST_ATTR_FWD_METHOD (u32)
	dstWeight       = 4  // IPVS_DEST_ATTR_WEIGHT (u32)
	dstUThresh      = 5  // IPVS_DEST_ATTR_U_THRESH
	dstLThresh      = 6  // IPVS_DEST_ATTR_L_THRESH
	dstActiveConns  = 7  // IPVS_DEST_ATTR_ACTIVE_CONNS
	dstInactConns   = 8  // IPVS_DEST_ATTR_INACT_CONNS
	dstPersistConns = 9  // IPVS_DEST_ATTR_PERSIST_CONNS
	dstStats        = 10 // IPVS_DEST_ATTR_STATS
	dstAddrFamily   = 11 // IPVS_DEST_ATTR_ADDR_FAMILY (u16)
	dstStats64      = 12 // IPVS_DEST_ATTR_STATS64
	dstTunType      = 13 // IPVS_DEST_ATTR_TUN_TYPE (u8)
	dstTunPort      = 14 // IPVS_DEST_ATTR_TUN_PORT (be16)
	dstTunFlags     = 15 // IPVS_DEST_ATTR_TUN_FLAGS (u16)
)

// Sync daemon attributes (IPVS_DAEMON_ATTR_*).
const (
	dmnState       = 1 // IPVS_DAEMON_ATTR_STATE (u32)
	dmnMcastIfn    = 2 // IPVS_DAEMON_ATTR_MCAST_IFN
	dmnSyncID      = 3 // IPVS_DAEMON_ATTR_SYNC_ID (u32)
	dmnSyncMaxLen  = 4 // IPVS_DAEMON_ATTR_SYNC_MAXLEN (u16)
	dmnMcastGroup  = 5 // IPVS_DAEMON_ATTR_MCAST_GROUP (in_addr)
	dmnMcastGroup6 = 6 // IPVS_DAEMON_ATTR_MCAST_GROUP6 (in6_addr)
	dmnMcastPort   = 7 // IPVS_DAEMON_ATTR_MCAST_PORT (u16, host order: measured)
	dmnMcastTTL    = 8 // IPVS_DAEMON_ATTR_MCAST_TTL (u8)
)

// Statistics attributes (IPVS_STATS_ATTR_*).
const (
	statConns    = 1  // IPVS_STATS_ATTR_CONNS
	statInPkts   = 2  // IPVS_STATS_ATTR_INPKTS
	statOutPkts  = 3  // IPVS_STATS_ATTR_OUTPKTS
	statInBytes  = 4  // IPVS_STATS_ATTR_INBYTES
	statOutBytes = 5  // IPVS_STATS_ATTR_OUTBYTES
	statCPS      = 6  // IPVS_STATS_ATTR_CPS
	statInPPS    = 7  // IPVS_STATS_ATTR_INPPS
	statOutPPS   = 8  // IPVS_STATS_ATTR_OUTPPS
	statInBPS    = 9  // IPVS_STATS_ATTR_INBPS
	statOutBPS   = 10 // IPVS_STATS_ATTR_OUTBPS
	statPad      = 11 // IPVS_STATS_ATTR_PAD
)

// Info attributes (IPVS_INFO_ATTR_*).
const (
	infoVersion     = 1 // IPVS_INFO_ATTR_VERSION
	infoConnTabSize = 2 // IPVS_INFO_ATTR_CONN_TAB_SIZE
)

// Service flag bits (IP_VS_SVC_F_*).
const (
	svcFlagPersistent = 0x0001 // IP_VS_SVC_F_PERSISTENT
	svcFlagHashed     = 0x0002 // IP_VS_SVC_F_HASHED (kernel-internal)
)

// Family is an address family: IPv4 or IPv6.
type Family uint16

const (
	IPv4 Family = unix.AF_INET
	IPv6 Family = unix.AF_INET6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return fmt.Sprintf("family(%d)", uint16(f))
}

// Protocol is a virtual service's transport protocol.
type Protocol uint16

const (
	TCP  Protocol = unix.IPPROTO_TCP
	UDP  Protocol = unix.IPPROTO_UDP
	SCTP Protocol = unix.IPPROTO_SCTP
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return fmt.Sprintf("protocol(%d)", uint16(p))
}

// Scheduler names an IPVS scheduling algorithm (module ip_vs_NAME).
type Scheduler string

const (
	RoundRobin                  Scheduler = "rr"
	WeightedRoundRobin          Scheduler = "wrr"
	LeastConnection             Scheduler = "lc"
	WeightedLeastConnection     Scheduler = "wlc"
	LocalityLeastConnection     Scheduler = "lblc"
	LocalityLeastConnectionRepl Scheduler = "lblcr"
	DestinationHashing          Scheduler = "dh"
	SourceHashing               Scheduler = "sh"
	ShortestExpectedDelay       Scheduler = "sed"
	NeverQueue                  Scheduler = "nq"
	WeightedFailover            Scheduler = "fo"
	WeightedOverflow            Scheduler = "ovf"
	MaglevHashing               Scheduler = "mh"
)

var schedulers = map[Scheduler]bool{
	"rr": true, "wrr": true, "lc": true, "wlc": true, "lblc": true, "lblcr": true, "dh": true,
	"sh": true, "sed": true, "nq": true, "fo": true, "ovf": true, "mh": true,
}

// Flags are a service's scheduling flags. Persistence is not a flag here:
// a non-zero Service.Timeout makes a service persistent.
type Flags uint32

const (
	FlagOnePacket  Flags = 0x0004 // IP_VS_SVC_F_ONEPACKET: -o, one-packet scheduling (UDP)
	FlagSHFallback Flags = 0x0008 // IP_VS_SVC_F_SCHED_SH_FALLBACK: -b sh-fallback
	FlagSHPort     Flags = 0x0010 // IP_VS_SVC_F_SCHED_SH_PORT: -b sh-port
	FlagMHFallback Flags = 0x0008 // IP_VS_SVC_F_SCHED_MH_FALLBACK: -b mh-fallback
	FlagMHPort     Flags = 0x0010 // IP_VS_SVC_F_SCHED_MH_PORT: -b mh-port
	flagSched3     Flags = 0x0020 // IP_VS_SVC_F_SCHED3
)

func (f Flags) String() string {
	var s []string
	if f&FlagOnePacket != 0 {
		s = append(s, "ops")
	}
	if f&FlagSHFallback != 0 {
		s = append(s, "sched1")
	}
	if f&FlagSHPort != 0 {
		s = append(s, "sched2")
	}
	if f&flagSched3 != 0 {
		s = append(s, "sched3")
	}
	if rest := f &^ (FlagOnePacket | FlagSHFallback | FlagSHPort | flagSched3); rest != 0 {
		s = append(s, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(s, ",")
}

// ForwardMethod is how packets reach a real server.
type ForwardMethod uint32

const (
	Masquerade  ForwardMethod = 0 // IP_VS_CONN_F_MASQ: -m, NAT
	Local       ForwardMethod = 1 // IP_VS_CONN_F_LOCALNODE
	Tunnel      ForwardMethod = 2 // IP_VS_CONN_F_TUNNEL: -i
	DirectRoute ForwardMethod = 3 // IP_VS_CONN_F_DROUTE: -g, gatewaying
	Bypass      ForwardMethod = 4 // IP_VS_CONN_F_BYPASS
)

const fwdMask = 0x0007 // IP_VS_CONN_F_FWD_MASK

func (m ForwardMethod) String() string {
	switch m {
	case Masquerade:
		return "masq"
	case Local:
		return "local"
	case Tunnel:
		return "tunnel"
	case DirectRoute:
		return "route"
	case Bypass:
		return "bypass"
	}
	return fmt.Sprintf("forward(%d)", uint32(m))
}

// TunnelType is the encapsulation of a Tunnel destination.
type TunnelType uint8

const (
	TunnelIPIP TunnelType = 0 // IP_VS_CONN_F_TUNNEL_TYPE_IPIP
	TunnelGUE  TunnelType = 1 // IP_VS_CONN_F_TUNNEL_TYPE_GUE
	TunnelGRE  TunnelType = 2 // IP_VS_CONN_F_TUNNEL_TYPE_GRE
)

func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return fmt.Sprintf("tunnel(%d)", uint8(t))
}

// TunnelFlags control tunnel checksums.
type TunnelFlags uint16

const (
	TunnelNoChecksum     TunnelFlags = 0      // IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM
	TunnelChecksum       TunnelFlags = 1 << 0 // IP_VS_TUNNEL_ENCAP_FLAG_CSUM
	TunnelRemoteChecksum TunnelFlags = 1 << 1 // IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
)

// DaemonState is a sync daemon's role.
type DaemonState uint32

const (
	Master DaemonState = 1 // IP_VS_STATE_MASTER
	Backup DaemonState = 2 // IP_VS_STATE_BACKUP
)

func (s DaemonState) String() string {
	switch s {
	case Master:
		return "master"
	case Backup:
		return "backup"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}
