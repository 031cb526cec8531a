package iptables

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Comment is -m comment (struct xt_comment_info, 256 bytes).
type Comment struct{ Text string }

func (m *Comment) Name() string    { return "comment" }
func (m *Comment) Revision() uint8 { return 0 }
func (m *Comment) isMatch()        {}
func (m *Comment) check(Family) error {
	if len(m.Text) > 255 {
		return invalid("comment longer than 255 bytes")
	}
	return nil
}
func (m *Comment) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--comment" {
		return false, nil
	}
	s, err := p.value(opt)
	m.Text = s
	if err == nil && inv {
		err = p.bad(opt, "--comment cannot be inverted")
	}
	return true, err
}
func (m *Comment) save(b *textBuf, _ Family) { b.WriteString(" --comment"); quote(b, m.Text) }
func (m *Comment) info(Family) []byte {
	w := newWB(256)
	w.str(0, 256, m.Text)
	return w.b
}

// infoEqual: the info re-encodes to b when b is 256 bytes holding the
// text, a NUL and zeros (checked without building the 256-byte struct
// for every listed rule).
func (m *Comment) infoEqual(_ Family, b []byte) bool {
	i := bytes.IndexByte(b, 0)
	return len(b) == 256 && i >= 0 && allZero(b[i:])
}
func (m *Comment) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Text = r.str(0, 256)
	return r.err("comment", 256)
}

// Mark is -m mark --mark VALUE[/MASK]. iptables-nft writes it natively
// (meta mark, bitwise, cmp).
type Mark struct {
	Value, Mask uint32
	Invert      bool
}

func (m *Mark) Name() string       { return "mark" }
func (m *Mark) Revision() uint8    { return 1 }
func (m *Mark) isMatch()           {}
func (m *Mark) check(Family) error { return nil }
func (m *Mark) parse(p *optParser, opt string, inv bool) (bool, error) {
	return parseMarkOpt(p, opt, inv, &m.Value, &m.Mask, &m.Invert)
}
func (m *Mark) save(b *textBuf, _ Family) { saveMarkOpt(b, m.Value, m.Mask, m.Invert) }
func (m *Mark) info(Family) []byte        { return markInfo(m.Value, m.Mask, m.Invert) }
func (m *Mark) setInfo(_ Family, b []byte) error {
	return setMarkInfo("mark", b, &m.Value, &m.Mask, &m.Invert)
}

// -m mark and -m connmark share their option, text and info layout
// (xt_mark_mtinfo1 and xt_connmark_mtinfo1 are both mark, mask, invert).

func parseMarkOpt(p *optParser, opt string, inv bool, value, mask *uint32, invert *bool) (bool, error) {
	if opt != "--mark" {
		return false, nil
	}
	v, mk, err := p.markMask(opt)
	*value, *mask, *invert = v, mk, inv
	return true, err
}

func saveMarkOpt(b *textBuf, value, mask uint32, invert bool) {
	b.WriteString(not(invert) + " --mark " + markString(value, mask))
}

func markInfo(value, mask uint32, invert bool) []byte {
	w := newWB(9)
	w.u32(0, value)
	w.u32(4, mask)
	if invert {
		w.u8(8, 1)
	}
	return w.b
}

func setMarkInfo(what string, b []byte, value, mask *uint32, invert *bool) error {
	r := &rb{b: b}
	*value, *mask, *invert = r.u32(0), r.u32(4), r.u8(8) != 0
	return r.err(what, 9)
}

func markString(v, mask uint32) string {
	if mask == 0xffffffff {
		return hexU32(v)
	}
	return hexU32(v) + "/" + hexU32(mask)
}

// markMask parses VALUE[/MASK]; the mask defaults to all ones.
func (p *optParser) markMask(opt string) (uint32, uint32, error) {
	s, err := p.value(opt)
	if err != nil {
		return 0, 0, err
	}
	a, b, hasMask := strings.Cut(s, "/")
	v, err := strconv.ParseUint(a, 0, 32)
	if err != nil {
		return 0, 0, p.bad(s, "bad mark value")
	}
	mask := uint64(0xffffffff)
	if hasMask {
		if mask, err = strconv.ParseUint(b, 0, 32); err != nil {
			return 0, 0, p.bad(s, "bad mark mask")
		}
	}
	return uint32(v), uint32(mask), nil
}

// Connmark is -m connmark (struct xt_connmark_mtinfo1).
type Connmark struct {
	Value, Mask uint32
	Invert      bool
}

func (m *Connmark) Name() string       { return "connmark" }
func (m *Connmark) Revision() uint8    { return 1 }
func (m *Connmark) isMatch()           {}
func (m *Connmark) check(Family) error { return nil }
func (m *Connmark) parse(p *optParser, opt string, inv bool) (bool, error) {
	return parseMarkOpt(p, opt, inv, &m.Value, &m.Mask, &m.Invert)
}
func (m *Connmark) save(b *textBuf, _ Family) { saveMarkOpt(b, m.Value, m.Mask, m.Invert) }
func (m *Connmark) info(Family) []byte        { return markInfo(m.Value, m.Mask, m.Invert) }
func (m *Connmark) setInfo(_ Family, b []byte) error {
	return setMarkInfo("connmark", b, &m.Value, &m.Mask, &m.Invert)
}

// Statistic is -m statistic (struct xt_statistic_info).
type Statistic struct {
	Nth         bool    // --mode nth (else random)
	Probability float64 // random: 0..1
	Every       uint32  // nth
	Packet      uint32  // nth
	Invert      bool
	// probRaw is the 31-bit threshold as the kernel holds it.
	probRaw uint32
}

func (m *Statistic) Name() string    { return "statistic" }
func (m *Statistic) Revision() uint8 { return 0 }
func (m *Statistic) isMatch()        {}
func (m *Statistic) check(Family) error {
	if m.Nth && m.Every == 0 {
		return invalid("statistic: --every must be given and positive")
	}
	if m.Nth && m.Packet >= m.Every {
		return invalid("statistic: --packet %d not below --every %d", m.Packet, m.Every)
	}
	return nil
}
func (m *Statistic) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--mode":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if inv {
			return true, p.bad(opt, "--mode cannot be inverted")
		}
		switch s {
		case "random":
			m.Nth = false
		case "nth":
			m.Nth = true
		default:
			return true, p.bad(s, "unknown statistic mode")
		}
	case "--probability":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1 {
			return true, p.bad(s, "probability must be in 0..1")
		}
		m.Probability, m.Invert = v, inv
		// libxt_statistic: lround(0x80000000 * prob)
		m.probRaw = uint32(math.Round(0x80000000 * v))
	case "--every":
		v, err := p.uint(opt, 1, math.MaxUint32)
		m.Every, m.Invert = uint32(v), inv
		return true, err
	case "--packet":
		v, err := p.uint(opt, 0, math.MaxUint32)
		m.Packet = uint32(v)
		return true, err
	default:
		return false, nil
	}
	return true, nil
}
func (m *Statistic) save(b *textBuf, _ Family) {
	if m.Nth {
		fmt.Fprintf(b, " --mode nth%s --every %d --packet %d", not(m.Invert), m.Every, m.Packet)
		return
	}
	// As fmt's %.11f, without fmt.
	b.WriteString(" --mode random")
	b.not(m.Invert)
	b.WriteString(" --probability ")
	b.b = strconv.AppendFloat(b.b, float64(m.probRaw)/0x80000000, 'f', 11, 64)
}
func (m *Statistic) info(f Family) []byte { return m.appendInfo(nil, f) }

func (m *Statistic) appendInfo(dst []byte, _ Family) []byte {
	dst, w := growWB(dst, 24)
	var flags uint16
	if m.Invert {
		flags = 1
	}
	if m.Nth {
		w.u16(0, 1)
		w.u16(2, flags)
		w.u32(4, m.Every-1)
		w.u32(8, m.Packet)
		w.u32(12, m.Packet)
	} else {
		w.u16(2, flags)
		w.u32(4, m.probRaw)
		// The kernel ignores the rest; iptables-nft leaves what the
		// union's nth view of it would be: count = probability too.
		w.u32(12, m.probRaw)
	}
	return dst
}
func (m *Statistic) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Nth = r.u16(0) == 1
	m.Invert = r.u16(2)&1 != 0
	if m.Nth {
		m.Every, m.Packet = r.u32(4)+1, r.u32(8)
	} else {
		m.probRaw = r.u32(4)
		m.Probability = float64(m.probRaw) / 0x80000000
	}
	return r.err("statistic", 16)
}

// Addrtype is -m addrtype (struct xt_addrtype_info_v1).
type Addrtype struct {
	Src, Dst          uint16 // RTN type bits: 1<<RTN_x
	SrcInv, DstInv    bool
	LimitIn, LimitOut bool
}

var addrTypes = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

func (m *Addrtype) Name() string    { return "addrtype" }
func (m *Addrtype) Revision() uint8 { return 1 }
func (m *Addrtype) isMatch()        {}
func (m *Addrtype) check(Family) error {
	if m.LimitIn && m.LimitOut {
		return invalid("addrtype: --limit-iface-in and --limit-iface-out together")
	}
	return nil
}
func parseAddrTypes(s string) (uint16, error) {
	var v uint16
	for _, t := range strings.Split(s, ",") {
		found := false
		for i, n := range addrTypes {
			if strings.EqualFold(t, n) {
				v |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown address type %q", t)
		}
	}
	return v, nil
}

// appendAddrTypes writes the type names of v, comma-separated.
func appendAddrTypes(b *textBuf, v uint16) {
	first := true
	for i, n := range addrTypes {
		if v&(1<<i) != 0 {
			if !first {
				b.WriteByte(',')
			}
			b.WriteString(n)
			first = false
		}
	}
}

func (m *Addrtype) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--src-type", "--dst-type":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		v, err := parseAddrTypes(s)
		if err != nil {
			return true, p.bad(s, "%v", err)
		}
		if opt == "--src-type" {
			m.Src, m.SrcInv = v, inv
		} else {
			m.Dst, m.DstInv = v, inv
		}
	case "--limit-iface-in":
		m.LimitIn = true
	case "--limit-iface-out":
		m.LimitOut = true
	default:
		return false, nil
	}
	return true, nil
}
func (m *Addrtype) save(b *textBuf, _ Family) {
	if m.Src != 0 {
		b.not(m.SrcInv)
		b.WriteString(" --src-type ")
		appendAddrTypes(b, m.Src)
	}
	if m.Dst != 0 {
		b.not(m.DstInv)
		b.WriteString(" --dst-type ")
		appendAddrTypes(b, m.Dst)
	}
	if m.LimitIn {
		b.WriteString(" --limit-iface-in")
	}
	if m.LimitOut {
		b.WriteString(" --limit-iface-out")
	}
}
func (m *Addrtype) info(f Family) []byte { return m.appendInfo(nil, f) }

func (m *Addrtype) appendInfo(dst []byte, _ Family) []byte {
	dst, w := growWB(dst, 8)
	w.u16(0, m.Src)
	w.u16(2, m.Dst)
	var f uint32
	for i, b := range []bool{m.SrcInv, m.DstInv, m.LimitIn, m.LimitOut} {
		if b {
			f |= 1 << i
		}
	}
	w.u32(4, f)
	return dst
}
func (m *Addrtype) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Src, m.Dst = r.u16(0), r.u16(2)
	f := r.u32(4)
	m.SrcInv, m.DstInv, m.LimitIn, m.LimitOut = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
	return r.err("addrtype", 8)
}

// Multiport is -m multiport (struct xt_multiport_v1).
type Multiport struct {
	Dir    uint8 // 0 --sports, 1 --dports, 2 --ports
	Ports  []PortRange
	Invert bool
}

func (m *Multiport) Name() string    { return "multiport" }
func (m *Multiport) Revision() uint8 { return 1 }
func (m *Multiport) isMatch()        {}
func (m *Multiport) check(Family) error {
	n := 0
	for _, p := range m.Ports {
		n++
		if p.Lo != p.Hi {
			n++
		}
	}
	if n == 0 || n > 15 {
		return invalid("multiport: %d ports, want 1..15", n)
	}
	return nil
}
func (m *Multiport) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--sports", "--source-ports":
		m.Dir = 0
	case "--dports", "--destination-ports":
		m.Dir = 1
	case "--ports":
		m.Dir = 2
	default:
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	m.Invert = inv
	m.Ports = nil
	for _, x := range strings.Split(s, ",") {
		r, err := parsePortRange(x, ":")
		if err != nil {
			return true, p.bad(s, "%v", err)
		}
		m.Ports = append(m.Ports, r)
	}
	return true, nil
}
func (m *Multiport) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert))
	b.WriteString([]string{" --sports ", " --dports ", " --ports "}[m.Dir%3])
	for i, p := range m.Ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
}
func (m *Multiport) info(Family) []byte {
	// flags u8, count u8, ports[15] u16, pflags[15] u8, invert u8
	w := newWB(2 + 30 + 15 + 1)
	w.u8(0, m.Dir)
	i := 0
	for _, p := range m.Ports {
		if i >= 15 {
			break
		}
		w.u16(2+2*i, p.Lo)
		if p.Lo != p.Hi && i < 14 {
			w.u8(32+i, 1)
			i++
			w.u16(2+2*i, p.Hi)
		}
		i++
	}
	w.u8(1, uint8(i))
	if m.Invert {
		w.u8(47, 1)
	}
	return w.b
}
func (m *Multiport) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Dir = r.u8(0)
	n := int(r.u8(1))
	if n > 15 {
		return fmt.Errorf("multiport: count %d", n)
	}
	m.Ports = nil
	for i := 0; i < n; i++ {
		lo := r.u16(2 + 2*i)
		if r.u8(32+i) != 0 && i+1 < n {
			i++
			m.Ports = append(m.Ports, PortRange{lo, r.u16(2 + 2*i)})
			continue
		}
		m.Ports = append(m.Ports, PortRange{lo, lo})
	}
	m.Invert = r.u8(47) != 0
	return r.err("multiport", 48)
}

// Limit is -m limit; iptables-nft writes it as the native limit
// expression.
type Limit struct {
	Rate  uint64 // per Unit
	Unit  uint64 // seconds: 1, 60, 3600, 86400
	Burst uint32
}

var limitUnits = map[string]uint64{"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
	"h": 3600, "hour": 3600, "d": 86400, "day": 86400}

func (m *Limit) Name() string    { return "limit" }
func (m *Limit) Revision() uint8 { return 0 }
func (m *Limit) isMatch()        {}
func (m *Limit) check(Family) error {
	if m.Rate == 0 {
		m.Rate, m.Unit = 3, 3600
	}
	if m.Burst == 0 {
		m.Burst = 5
	}
	return nil
}
func (m *Limit) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--limit":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		n, u, ok := strings.Cut(s, "/")
		v, err := strconv.ParseUint(n, 10, 32)
		unit := uint64(1)
		if ok {
			var known bool
			unit, known = limitUnits[u]
			if !known {
				return true, p.bad(s, "bad rate unit")
			}
		}
		if err != nil || v == 0 {
			return true, p.bad(s, "bad rate")
		}
		m.Rate, m.Unit = v, unit
	case "--limit-burst":
		v, err := p.uint(opt, 1, 10000)
		m.Burst = uint32(v)
		return true, err
	default:
		return false, nil
	}
	return true, nil
}
func (m *Limit) save(b *textBuf, _ Family) {
	unit := map[uint64]string{1: "sec", 60: "min", 3600: "hour", 86400: "day"}[m.Unit]
	fmt.Fprintf(b, " --limit %d/%s", m.Rate, unit)
	if m.Burst != 5 {
		fmt.Fprintf(b, " --limit-burst %d", m.Burst)
	}
}
func (m *Limit) info(Family) []byte           { return nil }
func (m *Limit) setInfo(Family, []byte) error { return nil }
