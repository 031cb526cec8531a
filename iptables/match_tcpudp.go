package iptables

import (
	"fmt"
	"strconv"
	"strings"
)

// PortRange is an inclusive port range; Lo == Hi is a single port.
type PortRange struct{ Lo, Hi uint16 }

var anyPort = PortRange{0, 0xffff}

func (p PortRange) isAny() bool { return p == anyPort }

// appendTo writes p as String returns it.
func (p PortRange) appendTo(b *textBuf) {
	b.uint(uint64(p.Lo))
	if p.Lo != p.Hi {
		b.WriteByte(':')
		b.uint(uint64(p.Hi))
	}
}

func (p PortRange) String() string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return strconv.Itoa(int(p.Lo)) + ":" + strconv.Itoa(int(p.Hi))
}

// services are the names iptables resolves through /etc/services that
// real rule sets use; anything else must be numeric.
var services = map[string]uint16{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "tftp": 69,
	"http": 80, "pop3": 110, "ntp": 123, "imap2": 143, "snmp": 161, "bgp": 179, "ldap": 389,
	"https": 443, "submission": 587, "imaps": 993, "pop3s": 995, "bootps": 67, "bootpc": 68,
}

func parsePort(s string) (uint16, error) {
	if v, err := strconv.ParseUint(s, 10, 16); err == nil {
		return uint16(v), nil
	}
	if v, ok := services[s]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("invalid port/service %q", s)
}

// parsePortRange parses PORT, LO:HI, :HI, LO: (and LO-HI where a caller
// allows it via sep).
func parsePortRange(s string, sep string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, sep)
	if !isRange {
		p, err := parsePort(s)
		return PortRange{p, p}, err
	}
	r := anyPort
	var err error
	if lo != "" {
		if r.Lo, err = parsePort(lo); err != nil {
			return r, err
		}
	}
	if hi != "" {
		if r.Hi, err = parsePort(hi); err != nil {
			return r, err
		}
	}
	if r.Lo > r.Hi {
		return r, fmt.Errorf("port range %q is upside down", s)
	}
	return r, nil
}

func (p *optParser) portRange(opt string) (PortRange, error) {
	s, err := p.value(opt)
	if err != nil {
		return PortRange{}, err
	}
	r, err := parsePortRange(s, ":")
	if err != nil {
		return r, p.bad(s, "%v", err)
	}
	return r, nil
}

// TCP is -m tcp (struct xt_tcp).
type TCP struct {
	Src, Dst          PortRange
	SrcInv, DstInv    bool
	Option            uint8
	OptionInv         bool
	FlagMask, FlagCmp uint8
	FlagsInv          bool
}

// NewTCP returns a tcp match matching any ports.
func NewTCP() *TCP { return &TCP{Src: anyPort, Dst: anyPort} }

func (m *TCP) Name() string    { return "tcp" }
func (m *TCP) Revision() uint8 { return 0 }
func (m *TCP) isMatch()        {}
func (m *TCP) check(Family) error {
	return nil
}

var tcpFlagNames = []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG"}

func parseTCPFlags(s string) (uint8, error) {
	switch s {
	case "ALL":
		return 0x3f, nil
	case "NONE":
		return 0, nil
	}
	var v uint8
	for _, f := range strings.Split(s, ",") {
		found := false
		for i, n := range tcpFlagNames {
			if f == n {
				v |= 1 << i
				found = true
			}
		}
		switch f {
		case "ALL":
			v |= 0x3f
			found = true
		case "NONE":
			found = true
		}
		if !found {
			return 0, fmt.Errorf("unknown TCP flag %q", f)
		}
	}
	return v, nil
}

func tcpFlagsString(v uint8) string {
	if v == 0 {
		return "NONE"
	}
	var s []string
	for i, n := range tcpFlagNames {
		if v&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ",")
}

func (m *TCP) parse(p *optParser, opt string, inv bool) (bool, error) {
	var err error
	switch opt {
	case "--sport", "--source-port":
		m.Src, err = p.portRange(opt)
		m.SrcInv = inv
	case "--dport", "--destination-port":
		m.Dst, err = p.portRange(opt)
		m.DstInv = inv
	case "--syn":
		m.FlagMask, m.FlagCmp, m.FlagsInv = 0x17, 0x02, inv
	case "--tcp-flags":
		var a, b string
		if a, err = p.value(opt); err != nil {
			return true, err
		}
		if b, err = p.value(opt); err != nil {
			return true, err
		}
		if m.FlagMask, err = parseTCPFlags(a); err != nil {
			return true, p.bad(a, "%v", err)
		}
		if m.FlagCmp, err = parseTCPFlags(b); err != nil {
			return true, p.bad(b, "%v", err)
		}
		m.FlagsInv = inv
	case "--tcp-option":
		var v uint64
		v, err = p.uint(opt, 0, 255)
		m.Option, m.OptionInv = uint8(v), inv
	default:
		return false, nil
	}
	return true, err
}

func (m *TCP) save(b *textBuf, _ Family) {
	if !m.Src.isAny() || m.SrcInv {
		b.not(m.SrcInv)
		b.WriteString(" --sport ")
		m.Src.appendTo(b)
	}
	if !m.Dst.isAny() || m.DstInv {
		b.not(m.DstInv)
		b.WriteString(" --dport ")
		m.Dst.appendTo(b)
	}
	if m.Option != 0 || m.OptionInv {
		b.WriteString(not(m.OptionInv) + " --tcp-option " + strconv.Itoa(int(m.Option)))
	}
	if m.FlagMask != 0 || m.FlagsInv {
		b.WriteString(not(m.FlagsInv) + " --tcp-flags " + tcpFlagsString(m.FlagMask) + " " + tcpFlagsString(m.FlagCmp))
	}
}

func (m *TCP) info(f Family) []byte { return m.appendInfo(nil, f) }

func (m *TCP) appendInfo(dst []byte, _ Family) []byte {
	dst, w := growWB(dst, 12)
	w.u16(0, m.Src.Lo)
	w.u16(2, m.Src.Hi)
	w.u16(4, m.Dst.Lo)
	w.u16(6, m.Dst.Hi)
	w.u8(8, m.Option)
	w.u8(9, m.FlagMask)
	w.u8(10, m.FlagCmp)
	var inv uint8
	for i, b := range []bool{m.SrcInv, m.DstInv, m.FlagsInv, m.OptionInv} {
		if b {
			inv |= 1 << i
		}
	}
	w.u8(11, inv)
	return dst
}

func (m *TCP) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Src = PortRange{r.u16(0), r.u16(2)}
	m.Dst = PortRange{r.u16(4), r.u16(6)}
	m.Option, m.FlagMask, m.FlagCmp = r.u8(8), r.u8(9), r.u8(10)
	inv := r.u8(11)
	m.SrcInv, m.DstInv, m.FlagsInv, m.OptionInv = inv&1 != 0, inv&2 != 0, inv&4 != 0, inv&8 != 0
	return r.err("tcp", 12)
}

// UDP is -m udp (struct xt_udp).
type UDP struct {
	Src, Dst       PortRange
	SrcInv, DstInv bool
}

// NewUDP returns a udp match matching any ports.
func NewUDP() *UDP { return &UDP{Src: anyPort, Dst: anyPort} }

func (m *UDP) Name() string       { return "udp" }
func (m *UDP) Revision() uint8    { return 0 }
func (m *UDP) isMatch()           {}
func (m *UDP) check(Family) error { return nil }
func (m *UDP) parse(p *optParser, opt string, inv bool) (bool, error) {
	var err error
	switch opt {
	case "--sport", "--source-port":
		m.Src, err = p.portRange(opt)
		m.SrcInv = inv
	case "--dport", "--destination-port":
		m.Dst, err = p.portRange(opt)
		m.DstInv = inv
	default:
		return false, nil
	}
	return true, err
}
func (m *UDP) save(b *textBuf, _ Family) {
	if !m.Src.isAny() || m.SrcInv {
		b.not(m.SrcInv)
		b.WriteString(" --sport ")
		m.Src.appendTo(b)
	}
	if !m.Dst.isAny() || m.DstInv {
		b.not(m.DstInv)
		b.WriteString(" --dport ")
		m.Dst.appendTo(b)
	}
}
func (m *UDP) info(f Family) []byte { return m.appendInfo(nil, f) }

func (m *UDP) appendInfo(dst []byte, _ Family) []byte {
	dst, w := growWB(dst, 10)
	w.u16(0, m.Src.Lo)
	w.u16(2, m.Src.Hi)
	w.u16(4, m.Dst.Lo)
	w.u16(6, m.Dst.Hi)
	var inv uint8
	if m.SrcInv {
		inv |= 1
	}
	if m.DstInv {
		inv |= 2
	}
	w.u8(8, inv)
	return dst
}
func (m *UDP) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Src = PortRange{r.u16(0), r.u16(2)}
	m.Dst = PortRange{r.u16(4), r.u16(6)}
	inv := r.u8(8)
	m.SrcInv, m.DstInv = inv&1 != 0, inv&2 != 0
	return r.err("udp", 9)
}

// ICMP is -m icmp (IPv4, struct ipt_icmp) or -m icmp6 (IPv6).
type ICMP struct {
	V6             bool
	Type           uint8
	CodeLo, CodeHi uint8
	Invert         bool
}

var icmpNames = map[string][3]uint8{
	"any": {0xff, 0, 0xff}, "echo-reply": {0, 0, 0xff}, "pong": {0, 0, 0xff},
	"destination-unreachable": {3, 0, 0xff}, "network-unreachable": {3, 0, 0}, "host-unreachable": {3, 1, 1},
	"protocol-unreachable": {3, 2, 2}, "port-unreachable": {3, 3, 3}, "fragmentation-needed": {3, 4, 4},
	"source-route-failed": {3, 5, 5}, "network-unknown": {3, 6, 6}, "host-unknown": {3, 7, 7},
	"network-prohibited": {3, 9, 9}, "host-prohibited": {3, 10, 10}, "communication-prohibited": {3, 13, 13},
	"source-quench": {4, 0, 0xff}, "redirect": {5, 0, 0xff}, "echo-request": {8, 0, 0xff}, "ping": {8, 0, 0xff},
	"router-advertisement": {9, 0, 0xff}, "router-solicitation": {10, 0, 0xff}, "time-exceeded": {11, 0, 0xff},
	"ttl-exceeded": {11, 0, 0xff}, "ttl-zero-during-transit": {11, 0, 0}, "ttl-zero-during-reassembly": {11, 1, 1},
	"parameter-problem": {12, 0, 0xff}, "ip-header-bad": {12, 0, 0}, "required-option-missing": {12, 1, 1},
	"timestamp-request": {13, 0, 0xff}, "timestamp-reply": {14, 0, 0xff}, "address-mask-request": {17, 0, 0xff},
	"address-mask-reply": {18, 0, 0xff},
}

var icmp6Names = map[string][3]uint8{
	"destination-unreachable": {1, 0, 0xff}, "no-route": {1, 0, 0}, "communication-prohibited": {1, 1, 1},
	"beyond-scope": {1, 2, 2}, "address-unreachable": {1, 3, 3}, "port-unreachable": {1, 4, 4},
	"failed-policy": {1, 5, 5}, "reject-route": {1, 6, 6}, "packet-too-big": {2, 0, 0xff},
	"time-exceeded": {3, 0, 0xff}, "ttl-exceeded": {3, 0, 0xff}, "ttl-zero-during-transit": {3, 0, 0},
	"ttl-zero-during-reassembly": {3, 1, 1}, "parameter-problem": {4, 0, 0xff}, "bad-header": {4, 0, 0},
	"unknown-header-type": {4, 1, 1}, "unknown-option": {4, 2, 2}, "echo-request": {128, 0, 0xff},
	"ping": {128, 0, 0xff}, "echo-reply": {129, 0, 0xff}, "pong": {129, 0, 0xff},
	"router-solicitation": {133, 0, 0xff}, "router-advertisement": {134, 0, 0xff},
	"neighbour-solicitation": {135, 0, 0xff}, "neighbor-solicitation": {135, 0, 0xff},
	"neighbour-advertisement": {136, 0, 0xff}, "neighbor-advertisement": {136, 0, 0xff}, "redirect": {137, 0, 0xff},
}

func (m *ICMP) Name() string {
	if m.V6 {
		return "icmp6"
	}
	return "icmp"
}
func (m *ICMP) Revision() uint8 { return 0 }
func (m *ICMP) isMatch()        {}
func (m *ICMP) check(f Family) error {
	if m.V6 != (f == IPv6) {
		return invalid("match %s in an %s rule", m.Name(), f)
	}
	return nil
}
func (m *ICMP) parse(p *optParser, opt string, inv bool) (bool, error) {
	want, names := "--icmp-type", icmpNames
	if m.V6 {
		want, names = "--icmpv6-type", icmp6Names
	}
	if opt != want {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	m.Invert = inv
	if v, ok := names[s]; ok {
		if m.V6 && s == "any" {
			return true, p.bad(s, "unknown ICMPv6 type")
		}
		m.Type, m.CodeLo, m.CodeHi = v[0], v[1], v[2]
		return true, nil
	}
	t, c, hasCode := strings.Cut(s, "/")
	tv, err := strconv.ParseUint(t, 10, 8)
	if err != nil {
		return true, p.bad(s, "unknown ICMP type")
	}
	m.Type, m.CodeLo, m.CodeHi = uint8(tv), 0, 0xff
	if hasCode {
		cv, err := strconv.ParseUint(c, 10, 8)
		if err != nil {
			return true, p.bad(s, "bad ICMP code")
		}
		m.CodeLo, m.CodeHi = uint8(cv), uint8(cv)
	}
	return true, nil
}
func (m *ICMP) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert))
	if m.V6 {
		b.WriteString(" --icmpv6-type ")
	} else {
		b.WriteString(" --icmp-type ")
	}
	if !m.V6 && m.Type == 0xff && m.CodeLo == 0 && m.CodeHi == 0xff {
		b.WriteString("any")
		return
	}
	b.WriteString(strconv.Itoa(int(m.Type)))
	if m.CodeLo != 0 || m.CodeHi != 0xff {
		b.WriteString("/" + strconv.Itoa(int(m.CodeLo)))
	}
}
func (m *ICMP) info(Family) []byte {
	w := newWB(4)
	w.u8(0, m.Type)
	w.u8(1, m.CodeLo)
	w.u8(2, m.CodeHi)
	if m.Invert {
		w.u8(3, 1)
	}
	return w.b
}
func (m *ICMP) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	m.V6 = f == IPv6
	m.Type, m.CodeLo, m.CodeHi, m.Invert = r.u8(0), r.u8(1), r.u8(2), r.u8(3)&1 != 0
	return r.err(m.Name(), 4)
}
