package ipvs

import (
	"fmt"
	"net/netip"
	"time"
)

// ServiceKey identifies a virtual service: either address, protocol and
// port, or a firewall mark (with the family the mark applies to). It is
// comparable, so it can key a map.
type ServiceKey struct {
	Family   Family     // IPv4 or IPv6; derived from Addr when zero
	Protocol Protocol   // TCP, UDP or SCTP; 0 for a firewall-mark service
	Addr     netip.Addr // virtual address; invalid for a firewall-mark service
	Port     uint16     // virtual port; 0 for a firewall-mark service
	FWMark   uint32     // firewall mark; 0 for an address service
}

// family is the key's family, derived from the address when unset.
func (k ServiceKey) family() Family {
	if k.Family != 0 {
		return k.Family
	}
	if k.Addr.Is6() && !k.Addr.Is4In6() {
		return IPv6
	}
	if k.Addr.Is4() || k.Addr.Is4In6() {
		return IPv4
	}
	return IPv4
}

// normalize fills in the family and unmaps the address, so keys built by
// hand compare equal to keys read from the kernel.
func (k ServiceKey) normalize() ServiceKey {
	k.Family = k.family()
	if k.Addr.Is4In6() {
		k.Addr = k.Addr.Unmap()
	}
	return k
}

// String prints the key the way ipvsadm names a service: "-t 192.0.2.1:80",
// "-u [2001:db8::1]:53", "--sctp-service ...", "-f 7" or "-f 7 -6".
func (k ServiceKey) String() string {
	k = k.normalize()
	if k.FWMark != 0 {
		if k.Family == IPv6 {
			return fmt.Sprintf("-f %d -6", k.FWMark)
		}
		return fmt.Sprintf("-f %d", k.FWMark)
	}
	opt := "-t"
	switch k.Protocol {
	case UDP:
		opt = "-u"
	case SCTP:
		opt = "--sctp-service"
	case TCP:
	default:
		opt = fmt.Sprintf("--protocol-%d", uint16(k.Protocol))
	}
	return opt + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
}

// Service is a virtual service and its configuration. Destinations are
// filled by ListServices and GetService and used by Apply; State is filled
// by the kernel on reads and ignored on writes.
type Service struct {
	ServiceKey
	Scheduler Scheduler // -s; required
	Flags     Flags     // -o, -b
	// Timeout is the persistence timeout (-p), whole seconds; 0 means not
	// persistent.
	Timeout time.Duration
	// Netmask is the persistence granularity (-M) as a prefix length:
	// 1-32 for IPv4, 1-128 for IPv6; 0 means the full length (one client
	// address).
	Netmask int
	// PE is the persistence engine (--pe), e.g. "sip"; "" for none.
	PE           string
	Destinations []Destination
	State        *ServiceState
	// Unknown holds attributes this package does not know, kept so they
	// are re-encoded unchanged.
	Unknown []RawAttr
}

// ServiceState is what the kernel reports about a service and never
// accepts: its statistics.
type ServiceState struct {
	Stats   Stats // from IPVS_SVC_ATTR_STATS64 (Linux 4.1+), else the 32-bit counters
	Stats32 Stats // IPVS_SVC_ATTR_STATS: 32-bit counters (bytes are 64-bit)
	Has64   bool  // the kernel sent 64-bit statistics
	// Hashed is IP_VS_SVC_F_HASHED, the kernel's own bookkeeping flag.
	Hashed bool
}

// DestinationKey identifies a real server within a service. The address
// carries its own family, which may differ from the service's where the
// kernel allows it (tunnel forwarding).
type DestinationKey struct {
	Addr netip.Addr
	Port uint16
}

func (k DestinationKey) normalize() DestinationKey {
	k.Addr = k.Addr.Unmap()
	return k
}

// Destination is a real server of a service.
type Destination struct {
	DestinationKey
	Forward ForwardMethod // -m, -g, -i
	// Weight is 0-65535 (ipvsadm's range); 0 quiesces the server. Note
	// that ipvsadm defaults to 1 and this package does not.
	Weight         int
	UpperThreshold uint32 // -x: connection upper threshold, 0 = none
	LowerThreshold uint32 // -y: connection lower threshold
	// Tunnel options, for Forward == Tunnel (Linux 5.2+).
	TunnelType  TunnelType  // --tun-type
	TunnelPort  uint16      // --tun-port, for GUE
	TunnelFlags TunnelFlags // --tun-csum, --tun-remcsum
	State       *DestinationState
	Unknown     []RawAttr
}

// DestinationState is what the kernel reports about a real server.
type DestinationState struct {
	ActiveConns     uint32
	InactiveConns   uint32
	PersistentConns uint32
	Stats           Stats // 64-bit when the kernel sent them
	Stats32         Stats
	Has64           bool
}

// Stats are IPVS counters and rate estimates.
type Stats struct {
	Conns, InPackets, OutPackets uint64
	InBytes, OutBytes            uint64
	CPS, InPPS, OutPPS           uint64 // per second
	InBPS, OutBPS                uint64 // bytes per second
}

// Timeouts are the connection timeouts of `ipvsadm --set`. On SetTimeouts,
// a zero field leaves that timeout unchanged.
type Timeouts struct {
	TCP    time.Duration
	TCPFin time.Duration
	UDP    time.Duration
}

// Daemon is a connection synchronisation daemon (`ipvsadm --start-daemon`).
type Daemon struct {
	State     DaemonState // Master or Backup
	Interface string      // --mcast-interface
	SyncID    uint32      // --syncid (0-255)
	MaxLen    uint16      // --sync-maxlen; 0 = kernel default
	Group     netip.Addr  // --mcast-group; invalid = kernel default 224.0.0.81
	Port      uint16      // --mcast-port; 0 = kernel default 8848
	TTL       uint8       // --mcast-ttl; 0 = kernel default 1
	Unknown   []RawAttr
}

// Info is the IPVS version and connection table size (`ipvsadm -L` header).
type Info struct {
	Version       string // e.g. "1.2.1"
	ConnTableSize uint32
}

// RawAttr is an attribute this package does not decode.
type RawAttr struct {
	Type uint16
	Data []byte
}
