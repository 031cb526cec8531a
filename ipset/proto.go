package ipset

import "strconv"

// Protocol and ICMP names as `ipset save` prints them and `ipset restore`
// reads them. The protocol names are the IANA keywords of Debian's
// /etc/protocols (which ipset resolves through getprotobyname); the ICMP
// names are ipset's own, recorded from what `ipset save` prints for every
// type/code.

var protoNames = map[uint8]string{
	1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st", 6: "tcp", 8: "egp", 9: "igp", 12: "pup",
	17: "udp", 20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp", 37: "ddp",
	38: "idpr-cmtp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp", 47: "gre",
	50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf",
	81: "vmtp", 88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip", 98: "encap", 103: "pim",
	108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc", 135: "mobility-header",
	136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140: "shim6", 141: "wesp", 142: "rohc",
	143: "ethernet",
}

var protoByName = func() map[string]uint8 {
	m := map[string]uint8{"icmpv6": ProtoICMPv6}
	for n, s := range protoNames {
		m[s] = n
	}
	return m
}()

func protoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

type icmpName struct {
	name      string
	typ, code uint8
}

var icmpNames = []icmpName{
	{"echo-reply", 0, 0}, {"network-unreachable", 3, 0}, {"host-unreachable", 3, 1},
	{"protocol-unreachable", 3, 2}, {"port-unreachable", 3, 3}, {"fragmentation-needed", 3, 4},
	{"source-route-failed", 3, 5}, {"network-unknown", 3, 6}, {"host-unknown", 3, 7},
	{"network-prohibited", 3, 9}, {"host-prohibited", 3, 10}, {"TOS-network-unreachable", 3, 11},
	{"TOS-host-unreachable", 3, 12}, {"communication-prohibited", 3, 13},
	{"host-precedence-violation", 3, 14}, {"precedence-cutoff", 3, 15}, {"source-quench", 4, 0},
	{"network-redirect", 5, 0}, {"host-redirect", 5, 1}, {"TOS-network-redirect", 5, 2},
	{"TOS-host-redirect", 5, 3}, {"echo-request", 8, 0}, {"router-advertisement", 9, 0},
	{"router-solicitation", 10, 0}, {"ttl-zero-during-transit", 11, 0},
	{"ttl-zero-during-reassembly", 11, 1}, {"ip-header-bad", 12, 0}, {"required-option-missing", 12, 1},
	{"timestamp-request", 13, 0}, {"timestamp-reply", 14, 0}, {"address-mask-request", 17, 0},
	{"address-mask-reply", 18, 0},
	// Aliases ipset accepts on input; never printed (the canonical name
	// comes first in the table).
	{"pong", 0, 0}, {"ping", 8, 0},
}

var icmp6Names = []icmpName{
	{"no-route", 1, 0}, {"communication-prohibited", 1, 1}, {"address-unreachable", 1, 3},
	{"port-unreachable", 1, 4}, {"packet-too-big", 2, 0}, {"ttl-zero-during-transit", 3, 0},
	{"ttl-zero-during-reassembly", 3, 1}, {"bad-header", 4, 0}, {"unknown-header-type", 4, 1},
	{"unknown-option", 4, 2}, {"echo-request", 128, 0}, {"echo-reply", 129, 0},
	{"router-solicitation", 133, 0}, {"router-advertisement", 134, 0},
	{"neighbour-solicitation", 135, 0}, {"neighbour-advertisement", 136, 0}, {"redirect", 137, 0},
	{"ping", 128, 0}, {"pong", 129, 0},
}

func icmpTable(proto uint8) []icmpName {
	if proto == ProtoICMPv6 {
		return icmp6Names
	}
	return icmpNames
}

// icmpText prints an ICMP type/code as ipset does: its name, or TYPE/CODE.
func icmpText(proto uint8, port uint16) string {
	t, c := uint8(port>>8), uint8(port)
	for _, n := range icmpTable(proto) {
		if n.typ == t && n.code == c {
			return n.name
		}
	}
	return strconv.Itoa(int(t)) + "/" + strconv.Itoa(int(c))
}

func icmpParse(proto uint8, s string) (uint16, bool) {
	for _, n := range icmpTable(proto) {
		if n.name == s {
			return ICMPPort(n.typ, n.code), true
		}
	}
	return 0, false
}
