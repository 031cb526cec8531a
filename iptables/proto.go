package iptables

import "strconv"

// protoNames are the names iptables-save prints for -p: its own table
// (tcp, udp, icmp, ...) and, for the rest, Debian's /etc/protocols, fixed
// here so output does not depend on the host.
var protoNames = map[uint8]string{
	1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 8: "egp", 12: "pup", 17: "udp", 20: "hmp",
	22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp", 37: "ddp", 38: "idpr-cmtp",
	41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp", 47: "gre", 50: "esp",
	51: "ah", 57: "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf",
	81: "vmtp", 88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip", 98: "encap",
	103: "pim", 108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc",
	135: "mobility-header", 136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip",
	140: "shim6", 141: "wesp", 142: "rohc", 143: "ethernet", 0: "all",
}

// protoAliases are extra names accepted on input.
var protoAliases = map[string]uint8{"icmpv6": 58, "ipv6-mh": 135, "mh": 135, "ip": 0}

func protoName(p uint8) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

func protoNumber(s string) (uint8, bool) {
	if v, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(v), true
	}
	for n, name := range protoNames {
		if name == s {
			return n, true
		}
	}
	n, ok := protoAliases[s]
	return n, ok
}
