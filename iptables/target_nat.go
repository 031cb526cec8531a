package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// NAT range flags (NF_NAT_RANGE_*).
const (
	natMapIPs      = 0x01
	natProtoSpec   = 0x02
	natRandom      = 0x04
	natPersistent  = 0x08
	natRandomFully = 0x10
	natProtoOffset = 0x20
)

// NAT is the DNAT, SNAT, MASQUERADE, REDIRECT and NETMAP targets: an
// address range, a port range and flags. Kind names which one.
type NAT struct {
	Kind        string // "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"
	MinAddr     netip.Addr
	MaxAddr     netip.Addr
	MinPort     uint16
	MaxPort     uint16
	BasePort    uint16 // DNAT --to-destination A:P1-P2/BASE
	Random      bool
	RandomFully bool
	Persistent  bool
	hasAddr     bool
	hasPorts    bool
	hasBase     bool
	family      Family
}

func (t *NAT) Name() string { return t.Kind }
func (t *NAT) Revision() uint8 {
	return natRevision(t.Kind, t.family)
}

// family is remembered from check/setInfo to pick the revision: for IPv6
// SNAT iptables-nft 1.8.9 writes revision 1, for IPv4 revision 0.
func natRevision(kind string, f Family) uint8 {
	switch kind {
	case "DNAT":
		return 2
	case "SNAT":
		if f == IPv6 {
			return 1
		}
	}
	return 0
}

func (t *NAT) isTarget() {}

func (t *NAT) check(f Family) error {
	t.family = f
	switch t.Kind {
	case "DNAT", "SNAT":
		if !t.hasAddr && !t.hasPorts {
			return invalid("%s needs --to-%s", t.Kind, map[string]string{"DNAT": "destination", "SNAT": "source"}[t.Kind])
		}
	case "NETMAP":
		if !t.hasAddr {
			return invalid("NETMAP needs --to")
		}
	}
	for _, a := range []netip.Addr{t.MinAddr, t.MaxAddr} {
		if a.IsValid() && a.Is4() != (f == IPv4) {
			return invalid("%s address %s in an %s rule", t.Kind, a, f)
		}
	}
	return nil
}

func (t *NAT) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch {
	case opt == "--to-destination" && t.Kind == "DNAT", opt == "--to-source" && t.Kind == "SNAT":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if err := t.parseRange(s, p.fam); err != nil {
			return true, p.bad(s, "%v", err)
		}
	case opt == "--to-ports" && (t.Kind == "MASQUERADE" || t.Kind == "REDIRECT"):
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if err := t.parsePorts(s); err != nil {
			return true, p.bad(s, "%v", err)
		}
	case opt == "--to" && t.Kind == "NETMAP":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		a, err := parseAddr(p.fam, s)
		if err != nil {
			return true, p.bad(s, "%v", err)
		}
		// NETMAP carries the first and last address of the block.
		t.MinAddr, t.MaxAddr, t.hasAddr = a.Addr, orNotMask(a.Addr, a.Mask), true
	case opt == "--random":
		t.Random = true
	case opt == "--random-fully":
		t.RandomFully = true
	case opt == "--persistent" && (t.Kind == "DNAT" || t.Kind == "SNAT"):
		t.Persistent = true
	default:
		return false, nil
	}
	return true, nil
}

func (t *NAT) parsePorts(s string) error {
	r, err := parsePortRange(s, "-")
	if err != nil {
		return err
	}
	t.MinPort, t.MaxPort, t.hasPorts = r.Lo, r.Hi, true
	return nil
}

// parseRange parses ADDR[-ADDR][:PORT[-PORT][/BASE]], IPv6 in brackets
// when ports follow.
func (t *NAT) parseRange(s string, f Family) error {
	addrs, ports := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return fmt.Errorf("missing ]")
		}
		addrs, ports = s[1:end], strings.TrimPrefix(s[end+1:], ":")
	} else if f == IPv4 || strings.Count(s, ":") == 0 {
		addrs, ports, _ = strings.Cut(s, ":")
	}
	if addrs != "" {
		lo, hi, isRange := strings.Cut(addrs, "-")
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return fmt.Errorf("bad address %q", lo)
		}
		b := a
		if isRange {
			if b, err = netip.ParseAddr(hi); err != nil {
				return fmt.Errorf("bad address %q", hi)
			}
		}
		if a.Is4() != (f == IPv4) || b.Is4() != (f == IPv4) {
			return fmt.Errorf("address family does not match the rule's")
		}
		if b.Less(a) {
			return fmt.Errorf("address range upside down")
		}
		t.MinAddr, t.MaxAddr, t.hasAddr = a, b, true
	}
	if ports != "" {
		pr, base, hasBase := strings.Cut(ports, "/")
		if err := t.parsePorts(pr); err != nil {
			return err
		}
		if hasBase {
			v, err := strconv.ParseUint(base, 10, 16)
			if err != nil {
				return fmt.Errorf("bad base port %q", base)
			}
			t.BasePort, t.hasBase = uint16(v), true
		}
	}
	return nil
}

func (t *NAT) flags() uint32 {
	var f uint32
	if t.hasAddr {
		f |= natMapIPs
	}
	if t.hasPorts {
		f |= natProtoSpec
	}
	if t.Random {
		f |= natRandom
	}
	if t.Persistent {
		f |= natPersistent
	}
	if t.RandomFully {
		f |= natRandomFully
	}
	if t.hasBase {
		f |= natProtoOffset
	}
	return f
}

func (t *NAT) setFlags(f uint32) {
	t.hasAddr, t.hasPorts = f&natMapIPs != 0, f&natProtoSpec != 0
	t.Random, t.Persistent = f&natRandom != 0, f&natPersistent != 0
	t.RandomFully, t.hasBase = f&natRandomFully != 0, f&natProtoOffset != 0
}

func (t *NAT) save(b *textBuf, f Family) {
	switch t.Kind {
	case "DNAT", "SNAT":
		if t.Kind == "DNAT" {
			b.WriteString(" --to-destination ")
		} else {
			b.WriteString(" --to-source ")
		}
		br := f == IPv6 && t.hasPorts
		if br {
			b.WriteByte('[')
		}
		if t.hasAddr {
			b.addr(t.MinAddr)
			if t.MaxAddr != t.MinAddr {
				b.WriteByte('-')
				b.addr(t.MaxAddr)
			}
		}
		if br {
			b.WriteByte(']')
		}
		if t.hasPorts {
			b.WriteByte(':')
			b.uint(uint64(t.MinPort))
			if t.MaxPort != t.MinPort {
				b.WriteByte('-')
				b.uint(uint64(t.MaxPort))
			}
			if t.hasBase {
				b.WriteByte('/')
				b.uint(uint64(t.BasePort))
			}
		}
	case "MASQUERADE", "REDIRECT":
		if t.hasPorts {
			b.WriteString(" --to-ports " + strconv.Itoa(int(t.MinPort)))
			if t.MaxPort != t.MinPort {
				b.WriteString("-" + strconv.Itoa(int(t.MaxPort)))
			}
		}
	case "NETMAP":
		b.WriteString(" --to " + Addr{Addr: t.MinAddr, Mask: netmapMask(t.MinAddr, t.MaxAddr)}.String())
	}
	if t.Random {
		b.WriteString(" --random")
	}
	if t.RandomFully {
		b.WriteString(" --random-fully")
	}
	if t.Persistent {
		b.WriteString(" --persistent")
	}
}

func addr16(a netip.Addr) (b [16]byte) {
	switch {
	case a.Is4():
		v := a.As4()
		copy(b[:], v[:])
	case a.IsValid():
		b = a.As16()
	}
	return b
}

func (t *NAT) info(f Family) []byte { return t.appendInfo(nil, f) }

func (t *NAT) appendInfo(dst []byte, f Family) []byte {
	if t.Kind == "DNAT" { // struct nf_nat_range2
		dst, w := growWB(dst, 44)
		w.u32(0, t.flags())
		lo, hi := addr16(t.MinAddr), addr16(t.MaxAddr)
		w.bytes(4, lo[:])
		w.bytes(20, hi[:])
		w.be16(36, t.MinPort)
		w.be16(38, t.MaxPort)
		w.be16(40, t.BasePort)
		return dst
	}
	if f == IPv6 { // struct nf_nat_range
		dst, w := growWB(dst, 36)
		w.u32(0, t.flags())
		lo, hi := addr16(t.MinAddr), addr16(t.MaxAddr)
		w.bytes(4, lo[:])
		w.bytes(20, hi[:])
		w.be16(36, t.MinPort)
		w.be16(38, t.MaxPort)
		return dst
	}
	// struct nf_nat_ipv4_multi_range_compat with one range
	dst, w := growWB(dst, 20)
	w.u32(0, 1)
	w.u32(4, t.flags())
	if t.MinAddr.IsValid() {
		w.bytes(8, t.MinAddr.AsSlice())
		w.bytes(12, t.MaxAddr.AsSlice())
	}
	w.be16(16, t.MinPort)
	w.be16(18, t.MaxPort)
	return dst
}

func (t *NAT) setInfo(f Family, b []byte) error {
	t.family = f
	r := &rb{b: b}
	n := f.addrLen()
	if t.Kind == "DNAT" || f == IPv6 {
		t.setFlags(r.u32(0))
		t.MinAddr, t.MaxAddr = r.addr(4, n), r.addr(20, n)
		t.MinPort, t.MaxPort = r.be16(36), r.be16(38)
		if t.Kind == "DNAT" {
			t.BasePort = r.be16(40)
			return r.err(t.Kind, 42)
		}
		return r.err(t.Kind, 40)
	}
	if r.u32(0) != 1 {
		return fmt.Errorf("%s: rangesize %d", t.Kind, r.u32(0))
	}
	t.setFlags(r.u32(4))
	t.MinAddr, t.MaxAddr = r.addr(8, 4), r.addr(12, 4)
	t.MinPort, t.MaxPort = r.be16(16), r.be16(18)
	return r.err(t.Kind, 20)
}

func orNotMask(a, m netip.Addr) netip.Addr {
	x, y := a.AsSlice(), m.AsSlice()
	for i := range x {
		x[i] |= ^y[i]
	}
	r, _ := netip.AddrFromSlice(x)
	return r
}

func netmapMask(lo, hi netip.Addr) netip.Addr {
	if !lo.IsValid() || !hi.IsValid() {
		return lo
	}
	x, y := lo.AsSlice(), hi.AsSlice()
	for i := range x {
		x[i] = ^(x[i] ^ y[i])
	}
	r, _ := netip.AddrFromSlice(x)
	return r
}
