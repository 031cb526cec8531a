package iptables

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// This file holds the small fixed-layout xt matches: pkttype, length,
// ttl/hl, mac, helper, dscp, tos, iprange and owner. Layouts are the
// kernel's uapi structs (linux/netfilter/xt_*.h), checked against what
// iptables-nft 1.8.9 wrote (testdata/rules.json).

func noInv(p *optParser, opt string, inv bool) error {
	if inv {
		return p.bad(opt, "%s cannot be inverted", opt)
	}
	return nil
}

// PktType is -m pkttype --pkt-type TYPE (struct xt_pkttype_info).
type PktType struct {
	Type   uint32 // PACKET_HOST (unicast) 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4
	Invert bool
}

var pktTypeNames = []string{"unicast", "broadcast", "multicast", "otherhost", "outgoing"}

func (m *PktType) Name() string       { return "pkttype" }
func (m *PktType) Revision() uint8    { return 0 }
func (m *PktType) isMatch()           {}
func (m *PktType) check(Family) error { return nil }
func (m *PktType) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--pkt-type" {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	m.Invert = inv
	for i, n := range pktTypeNames {
		if strings.EqualFold(s, n) {
			m.Type = uint32(i)
			return true, nil
		}
	}
	if s == "host" {
		m.Type = 0
		return true, nil
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return true, p.bad(s, "unknown packet type")
	}
	m.Type = uint32(v)
	return true, nil
}
func (m *PktType) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert) + " --pkt-type ")
	if int(m.Type) < len(pktTypeNames) {
		b.WriteString(pktTypeNames[m.Type])
	} else {
		b.WriteString(strconv.FormatUint(uint64(m.Type), 10))
	}
}
func (m *PktType) info(Family) []byte {
	w := newWB(8)
	w.u32(0, m.Type)
	if m.Invert {
		w.u32(4, 1)
	}
	return w.b
}
func (m *PktType) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Type, m.Invert = r.u32(0), r.u32(4) != 0
	return r.err("pkttype", 8)
}

// Length is -m length --length MIN[:MAX] (struct xt_length_info).
type Length struct {
	Min, Max uint16
	Invert   bool
}

func (m *Length) Name() string       { return "length" }
func (m *Length) Revision() uint8    { return 0 }
func (m *Length) isMatch()           {}
func (m *Length) check(Family) error { return nil }
func (m *Length) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--length" {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	lo, hi, err := parseRange16(s)
	if err != nil {
		return true, p.bad(s, "%v", err)
	}
	m.Min, m.Max, m.Invert = lo, hi, inv
	return true, nil
}

// parseRange16 reads N, N:M, :M or N: (missing ends are 0 and 65535).
func parseRange16(s string) (uint16, uint16, error) {
	a, c, isRange := strings.Cut(s, ":")
	lo, hi := uint64(0), uint64(0xffff)
	var err error
	if a != "" {
		if lo, err = strconv.ParseUint(a, 10, 16); err != nil {
			return 0, 0, fmt.Errorf("bad number %q", a)
		}
	}
	if !isRange {
		return uint16(lo), uint16(lo), nil
	}
	if c != "" {
		if hi, err = strconv.ParseUint(c, 10, 16); err != nil {
			return 0, 0, fmt.Errorf("bad number %q", c)
		}
	}
	return uint16(lo), uint16(hi), nil
}

func (m *Length) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert) + " --length " + strconv.Itoa(int(m.Min)))
	if m.Max != m.Min {
		b.WriteString(":" + strconv.Itoa(int(m.Max)))
	}
}
func (m *Length) info(Family) []byte {
	w := newWB(5)
	w.u16(0, m.Min)
	w.u16(2, m.Max)
	if m.Invert {
		w.u8(4, 1)
	}
	return w.b
}
func (m *Length) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Min, m.Max, m.Invert = r.u16(0), r.u16(2), r.u8(4) != 0
	return r.err("length", 5)
}

// TTL comparison modes (IPT_TTL_EQ... / IP6T_HL_EQ...).
const (
	CmpEq uint8 = iota
	CmpNe
	CmpLt
	CmpGt
)

// Ttl is -m ttl (struct ipt_ttl_info), or for IPv6 -m hl (struct
// ip6t_hl_info, same layout) when V6 is set. Mode is CmpEq, CmpNe (printed
// as "! --ttl-eq"), CmpLt or CmpGt.
type Ttl struct {
	Mode  uint8
	Value uint8
	V6    bool
}

func (m *Ttl) Name() string {
	if m.V6 {
		return "hl"
	}
	return "ttl"
}
func (m *Ttl) Revision() uint8 { return 0 }
func (m *Ttl) isMatch()        {}
func (m *Ttl) check(f Family) error {
	if m.V6 != (f == IPv6) {
		return invalid("-m %s is for %s only", m.Name(), map[bool]string{true: "ip6tables", false: "iptables"}[m.V6])
	}
	if m.Mode > CmpGt {
		return invalid("%s: mode %d", m.Name(), m.Mode)
	}
	return nil
}
func (m *Ttl) parse(p *optParser, opt string, inv bool) (bool, error) {
	pre := "--" + m.Name() + "-"
	if !strings.HasPrefix(opt, pre) {
		return false, nil
	}
	mode := map[string]uint8{"eq": CmpEq, "lt": CmpLt, "gt": CmpGt}
	md, ok := mode[strings.TrimPrefix(opt, pre)]
	if !ok {
		return false, nil
	}
	if inv && md != CmpEq {
		return true, p.bad(opt, "only %seq can be inverted", pre)
	}
	v, err := p.uint(opt, 0, 255)
	if inv {
		md = CmpNe
	}
	m.Mode, m.Value = md, uint8(v)
	return true, err
}
func (m *Ttl) save(b *textBuf, _ Family) {
	pre := " --" + m.Name() + "-"
	switch m.Mode {
	case CmpEq:
		b.WriteString(pre + "eq")
	case CmpNe:
		b.WriteString(" !" + pre + "eq")
	case CmpLt:
		b.WriteString(pre + "lt")
	default:
		b.WriteString(pre + "gt")
	}
	b.WriteString(" " + strconv.Itoa(int(m.Value)))
}
func (m *Ttl) info(Family) []byte {
	w := newWB(2)
	w.u8(0, m.Mode)
	w.u8(1, m.Value)
	return w.b
}
func (m *Ttl) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	m.Mode, m.Value, m.V6 = r.u8(0), r.u8(1), f == IPv6
	if m.Mode > CmpGt {
		return fmt.Errorf("ttl mode %d", m.Mode)
	}
	return r.err(m.Name(), 2)
}

// Mac is -m mac --mac-source ADDR (struct xt_mac_info).
type Mac struct {
	Addr   net.HardwareAddr
	Invert bool
}

func (m *Mac) Name() string    { return "mac" }
func (m *Mac) Revision() uint8 { return 0 }
func (m *Mac) isMatch()        {}
func (m *Mac) check(Family) error {
	if len(m.Addr) != 6 {
		return invalid("mac: --mac-source %q is not a 6-byte address", m.Addr.String())
	}
	return nil
}
func (m *Mac) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--mac-source" {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	a, err := net.ParseMAC(s)
	if err != nil || len(a) != 6 {
		return true, p.bad(s, "bad MAC address")
	}
	m.Addr, m.Invert = a, inv
	return true, nil
}
func (m *Mac) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert) + " --mac-source " + m.Addr.String())
}
func (m *Mac) info(Family) []byte {
	w := newWB(12)
	w.bytes(0, m.Addr)
	if m.Invert {
		w.u32(8, 1)
	}
	return w.b
}
func (m *Mac) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Addr, m.Invert = net.HardwareAddr(r.bytes(0, 6)), r.u32(8) != 0
	return r.err("mac", 12)
}

// Helper is -m helper --helper NAME (struct xt_helper_info).
type Helper struct {
	Helper string
	Invert bool
}

func (m *Helper) Name() string    { return "helper" }
func (m *Helper) Revision() uint8 { return 0 }
func (m *Helper) isMatch()        {}
func (m *Helper) check(Family) error {
	if len(m.Helper) > 29 {
		return invalid("helper: name %q longer than 29 bytes", m.Helper)
	}
	return nil
}
func (m *Helper) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--helper" {
		return false, nil
	}
	s, err := p.value(opt)
	m.Helper, m.Invert = s, inv
	return true, err
}
func (m *Helper) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert) + " --helper")
	quote(b, m.Helper)
}
func (m *Helper) info(Family) []byte {
	w := newWB(34)
	if m.Invert {
		w.u32(0, 1)
	}
	w.str(4, 30, m.Helper)
	return w.b
}
func (m *Helper) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Invert, m.Helper = r.u32(0) != 0, r.str(4, 30)
	return r.err("helper", 34)
}

// dscpClasses are the DiffServ class names iptables accepts.
var dscpClasses = map[string]uint8{"CS0": 0, "CS1": 8, "CS2": 16, "CS3": 24, "CS4": 32, "CS5": 40, "CS6": 48,
	"CS7": 56, "BE": 0, "AF11": 10, "AF12": 12, "AF13": 14, "AF21": 18, "AF22": 20, "AF23": 22, "AF31": 26,
	"AF32": 28, "AF33": 30, "AF41": 34, "AF42": 36, "AF43": 38, "EF": 46}

// parseDSCP reads --dscp VALUE or --dscp-class NAME.
func (p *optParser) parseDSCP(opt string) (uint8, error) {
	s, err := p.value(opt)
	if err != nil {
		return 0, err
	}
	if strings.HasSuffix(opt, "-class") {
		v, ok := dscpClasses[strings.ToUpper(s)]
		if !ok {
			return 0, p.bad(s, "unknown DSCP class")
		}
		return v, nil
	}
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil || v > 63 {
		return 0, p.bad(s, "DSCP must be 0..63")
	}
	return uint8(v), nil
}

// Dscp is -m dscp --dscp VALUE / --dscp-class NAME (struct xt_dscp_info).
type Dscp struct {
	Value  uint8
	Invert bool
}

func (m *Dscp) Name() string    { return "dscp" }
func (m *Dscp) Revision() uint8 { return 0 }
func (m *Dscp) isMatch()        {}
func (m *Dscp) check(Family) error {
	if m.Value > 63 {
		return invalid("dscp: %d above 63", m.Value)
	}
	return nil
}
func (m *Dscp) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--dscp" && opt != "--dscp-class" {
		return false, nil
	}
	v, err := p.parseDSCP(opt)
	m.Value, m.Invert = v, inv
	return true, err
}
func (m *Dscp) save(b *textBuf, _ Family) {
	fmt.Fprintf(b, "%s --dscp 0x%02x", not(m.Invert), m.Value)
}
func (m *Dscp) info(Family) []byte {
	w := newWB(2)
	w.u8(0, m.Value)
	if m.Invert {
		w.u8(1, 1)
	}
	return w.b
}
func (m *Dscp) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Value, m.Invert = r.u8(0), r.u8(1) != 0
	return r.err("dscp", 2)
}

// tosNames are the symbolic TOS values; they imply the mask 0x3f.
var tosNames = map[string]uint8{"Minimize-Delay": 0x10, "Maximize-Throughput": 0x08,
	"Maximize-Reliability": 0x04, "Minimize-Cost": 0x02, "Normal-Service": 0x00}

// parseTOS reads VALUE[/MASK] or a symbolic name.
func (p *optParser) parseTOS(opt string) (value, mask uint8, err error) {
	s, err := p.value(opt)
	if err != nil {
		return 0, 0, err
	}
	for n, v := range tosNames {
		if strings.EqualFold(s, n) {
			return v, 0x3f, nil
		}
	}
	a, c, hasMask := strings.Cut(s, "/")
	v, err := strconv.ParseUint(a, 0, 8)
	if err != nil {
		return 0, 0, p.bad(s, "bad TOS value")
	}
	mk := uint64(0xff)
	if hasMask {
		if mk, err = strconv.ParseUint(c, 0, 8); err != nil {
			return 0, 0, p.bad(s, "bad TOS mask")
		}
	}
	return uint8(v), uint8(mk), nil
}

// Tos is -m tos --tos VALUE[/MASK] (struct xt_tos_match_info).
type Tos struct {
	Value, Mask uint8
	Invert      bool
}

func (m *Tos) Name() string       { return "tos" }
func (m *Tos) Revision() uint8    { return 1 }
func (m *Tos) isMatch()           {}
func (m *Tos) check(Family) error { return nil }
func (m *Tos) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--tos" {
		return false, nil
	}
	v, mk, err := p.parseTOS(opt)
	m.Value, m.Mask, m.Invert = v, mk, inv
	return true, err
}
func (m *Tos) save(b *textBuf, _ Family) {
	fmt.Fprintf(b, "%s --tos 0x%02x/0x%02x", not(m.Invert), m.Value, m.Mask)
}
func (m *Tos) info(Family) []byte {
	w := newWB(3)
	w.u8(0, m.Mask)
	w.u8(1, m.Value)
	if m.Invert {
		w.u8(2, 1)
	}
	return w.b
}
func (m *Tos) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Mask, m.Value, m.Invert = r.u8(0), r.u8(1), r.u8(2) != 0
	return r.err("tos", 3)
}

// IPRange is -m iprange (struct xt_iprange_mtinfo, revision 1). A zero
// Addr pair means that side is not matched.
type IPRange struct {
	SrcMin, SrcMax netip.Addr
	DstMin, DstMax netip.Addr
	SrcInv, DstInv bool
}

func (m *IPRange) Name() string    { return "iprange" }
func (m *IPRange) Revision() uint8 { return 1 }
func (m *IPRange) isMatch()        {}
func (m *IPRange) check(f Family) error {
	for _, a := range []netip.Addr{m.SrcMin, m.SrcMax, m.DstMin, m.DstMax} {
		if a.IsValid() && a.Is4() != (f == IPv4) {
			return invalid("iprange: address %s not of family %s", a, f)
		}
	}
	if !m.SrcMin.IsValid() && !m.DstMin.IsValid() {
		return invalid("iprange: neither --src-range nor --dst-range")
	}
	return nil
}
func (m *IPRange) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--src-range" && opt != "--dst-range" {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	a, c, ok := strings.Cut(s, "-")
	lo, err1 := netip.ParseAddr(a)
	hi, err2 := netip.ParseAddr(c)
	if !ok {
		hi, err2 = lo, err1
	}
	if err1 != nil || err2 != nil || lo.Is4() != (p.fam == IPv4) || hi.Is4() != lo.Is4() {
		return true, p.bad(s, "bad address range")
	}
	if opt == "--src-range" {
		m.SrcMin, m.SrcMax, m.SrcInv = lo, hi, inv
	} else {
		m.DstMin, m.DstMax, m.DstInv = lo, hi, inv
	}
	return true, nil
}
func (m *IPRange) save(b *textBuf, _ Family) {
	if m.SrcMin.IsValid() {
		b.WriteString(not(m.SrcInv) + " --src-range " + m.SrcMin.String() + "-" + m.SrcMax.String())
	}
	if m.DstMin.IsValid() {
		b.WriteString(not(m.DstInv) + " --dst-range " + m.DstMin.String() + "-" + m.DstMax.String())
	}
}
func (m *IPRange) info(Family) []byte {
	w := newWB(65)
	var flags uint8
	if m.SrcMin.IsValid() {
		w.bytes(0, m.SrcMin.AsSlice())
		w.bytes(16, m.SrcMax.AsSlice())
		flags |= 1
		if m.SrcInv {
			flags |= 0x10
		}
	}
	if m.DstMin.IsValid() {
		w.bytes(32, m.DstMin.AsSlice())
		w.bytes(48, m.DstMax.AsSlice())
		flags |= 2
		if m.DstInv {
			flags |= 0x20
		}
	}
	w.u8(64, flags)
	return w.b
}
func (m *IPRange) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	n := f.addrLen()
	addr := func(off int) netip.Addr { a, _ := netip.AddrFromSlice(r.bytes(off, n)); return a }
	flags := r.u8(64)
	*m = IPRange{}
	if flags&1 != 0 {
		m.SrcMin, m.SrcMax, m.SrcInv = addr(0), addr(16), flags&0x10 != 0
	}
	if flags&2 != 0 {
		m.DstMin, m.DstMax, m.DstInv = addr(32), addr(48), flags&0x20 != 0
	}
	return r.err("iprange", 65)
}

// Owner is -m owner (struct xt_owner_match_info, revision 1). Match and
// Invert are bit sets of OwnerUID, OwnerGID, OwnerSocket, OwnerSupplGroups.
type Owner struct {
	UIDMin, UIDMax uint32
	GIDMin, GIDMax uint32
	Match, Invert  uint8
}

// Owner match bits (XT_OWNER_*).
const (
	OwnerUID         = 1
	OwnerGID         = 2
	OwnerSocket      = 4
	OwnerSupplGroups = 8
)

func (m *Owner) Name() string    { return "owner" }
func (m *Owner) Revision() uint8 { return 1 }
func (m *Owner) isMatch()        {}
func (m *Owner) check(Family) error {
	if m.Match&OwnerSupplGroups != 0 && m.Match&OwnerGID == 0 {
		return invalid("owner: --suppl-groups needs --gid-owner")
	}
	return nil
}
func (m *Owner) parse(p *optParser, opt string, inv bool) (bool, error) {
	var bit uint8
	switch opt {
	case "--uid-owner":
		bit = OwnerUID
	case "--gid-owner":
		bit = OwnerGID
	case "--socket-exists":
		bit = OwnerSocket
	case "--suppl-groups":
		bit = OwnerSupplGroups
	default:
		return false, nil
	}
	m.Match |= bit
	if inv {
		m.Invert |= bit
	}
	if bit == OwnerSocket || bit == OwnerSupplGroups {
		return true, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	a, c, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.ParseUint(a, 10, 32)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.ParseUint(c, 10, 32)
	}
	if err1 != nil || err2 != nil {
		return true, p.bad(s, "numeric id or range expected (names are not resolved)")
	}
	if bit == OwnerUID {
		m.UIDMin, m.UIDMax = uint32(lo), uint32(hi)
	} else {
		m.GIDMin, m.GIDMax = uint32(lo), uint32(hi)
	}
	return true, nil
}
func (m *Owner) save(b *textBuf, _ Family) {
	item := func(bit uint8, label string, lo, hi uint32, hasValue bool) {
		if m.Match&bit == 0 {
			return
		}
		b.WriteString(not(m.Invert&bit != 0) + " " + label)
		if hasValue {
			b.WriteString(" " + strconv.FormatUint(uint64(lo), 10))
			if hi != lo {
				b.WriteString("-" + strconv.FormatUint(uint64(hi), 10))
			}
		}
	}
	item(OwnerSocket, "--socket-exists", 0, 0, false)
	item(OwnerUID, "--uid-owner", m.UIDMin, m.UIDMax, true)
	item(OwnerGID, "--gid-owner", m.GIDMin, m.GIDMax, true)
	item(OwnerSupplGroups, "--suppl-groups", 0, 0, false)
}
func (m *Owner) info(Family) []byte {
	w := newWB(18)
	w.u32(0, m.UIDMin)
	w.u32(4, m.UIDMax)
	w.u32(8, m.GIDMin)
	w.u32(12, m.GIDMax)
	w.u8(16, m.Match)
	w.u8(17, m.Invert)
	return w.b
}
func (m *Owner) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.UIDMin, m.UIDMax, m.GIDMin, m.GIDMax = r.u32(0), r.u32(4), r.u32(8), r.u32(12)
	m.Match, m.Invert = r.u8(16), r.u8(17)
	return r.err("owner", 18)
}
