package iptables

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
)

// String is -m string (struct xt_string_info, revision 1): a pattern
// searched for in the packet between offsets From and To with the
// kernel's bm or kmp text search.
type String struct {
	Pattern []byte // --string or --hex-string
	Algo    string // --algo: "bm" or "kmp"
	From    uint16 // --from
	To      uint16 // --to; 65535 when not given
	Invert  bool   // ! --string
	ICase   bool   // --icase
}

// NewString returns a String with iptables' defaults (--to 65535).
func NewString() *String { return &String{To: 0xffff} }

func (m *String) Name() string    { return "string" }
func (m *String) Revision() uint8 { return 1 }
func (m *String) isMatch()        {}
func (m *String) check(Family) error {
	if len(m.Pattern) == 0 || len(m.Pattern) > 128 {
		return invalid("string: pattern of %d bytes (1 to 128)", len(m.Pattern))
	}
	if m.Algo != "bm" && m.Algo != "kmp" {
		return invalid("string: --algo %q (bm or kmp)", m.Algo)
	}
	if m.From > m.To {
		return invalid("string: --from %d past --to %d", m.From, m.To)
	}
	return nil
}
func (m *String) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--string", "--hex-string":
		if m.Pattern != nil {
			return true, p.bad(opt, "only one --string or --hex-string")
		}
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if opt == "--hex-string" {
			b, err := parseHexString(s)
			if err != nil {
				return true, p.bad(s, "%v", err)
			}
			m.Pattern = b
		} else {
			m.Pattern = []byte(s)
		}
		if len(m.Pattern) == 0 || len(m.Pattern) > 128 {
			return true, p.bad(s, "pattern of %d bytes (1 to 128)", len(m.Pattern))
		}
		m.Invert = inv
		return true, nil
	case "--algo":
		s, err := p.value(opt)
		if err == nil && s != "bm" && s != "kmp" {
			err = p.bad(s, "--algo bm or kmp")
		}
		m.Algo = s
		return true, err
	case "--from", "--to":
		v, err := p.uint(opt, 0, 0xffff)
		if opt == "--from" {
			m.From = uint16(v)
		} else {
			m.To = uint16(v)
		}
		return true, err
	case "--icase":
		m.ICase = true
		return true, nil
	}
	return false, nil
}

// parseHexString reads libxt_string's mixed form: plain characters
// (backslash escapes the next one) and |hex bytes| (blanks ignored).
func parseHexString(s string) ([]byte, error) {
	var out []byte
	inHex := false
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '|':
			if inHex {
				if len(digits)%2 != 0 {
					return nil, fmt.Errorf("odd number of hex digits")
				}
				b, err := hex.DecodeString(string(digits))
				if err != nil {
					return nil, fmt.Errorf("bad hex %q", digits)
				}
				out = append(out, b...)
				digits = digits[:0]
			}
			inHex = !inHex
		case inHex:
			if c != ' ' {
				digits = append(digits, c)
			}
		case c == '\\' && i+1 < len(s):
			i++
			out = append(out, s[i])
		default:
			out = append(out, c)
		}
	}
	if inHex {
		return nil, fmt.Errorf("unterminated |hex|")
	}
	return out, nil
}

// hexPattern is libxt_string's test for printing --hex-string: a
// character that is not printable ASCII, or a trailing backslash.
func hexPattern(p []byte) bool {
	for _, c := range p {
		if c < 0x20 || c > 0x7e {
			return true
		}
	}
	return len(p) > 0 && p[len(p)-1] == '\\'
}

func (m *String) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert))
	if hexPattern(m.Pattern) {
		b.WriteString(` --hex-string "|` + hex.EncodeToString(m.Pattern) + `|"`)
	} else {
		b.WriteString(` --string "`)
		for _, c := range m.Pattern {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteString(" --algo " + m.Algo)
	if m.From != 0 {
		b.WriteString(" --from " + strconv.Itoa(int(m.From)))
	}
	if m.To != 0xffff {
		b.WriteString(" --to " + strconv.Itoa(int(m.To)))
	}
	if m.ICase {
		b.WriteString(" --icase")
	}
}

// from_offset, to_offset, algo[16], pattern[128], patlen, flags, then
// the kernel's ts_config pointer (8-aligned): 160 bytes.
func (m *String) info(Family) []byte {
	w := newWB(160)
	w.u16(0, m.From)
	w.u16(2, m.To)
	w.str(4, 16, m.Algo)
	w.bytes(20, m.Pattern)
	w.u8(148, uint8(len(m.Pattern)))
	var f uint8
	if m.Invert {
		f |= 1 // XT_STRING_FLAG_INVERT
	}
	if m.ICase {
		f |= 2 // XT_STRING_FLAG_IGNORECASE
	}
	w.u8(149, f)
	return w.b
}
func (m *String) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.From, m.To, m.Algo = r.u16(0), r.u16(2), r.str(4, 16)
	n := int(r.u8(148))
	if n > 128 {
		n = 128
	}
	m.Pattern = r.bytes(20, n)
	f := r.u8(149)
	m.Invert, m.ICase = f&1 != 0, f&2 != 0
	return r.err("string", 160)
}

// TPROXY is -j TPROXY (struct xt_tproxy_target_info_v1), mangle table
// only: redirect to a local socket at OnIP:OnPort and set the mark.
type TPROXY struct {
	OnPort         uint16     // --on-port (0: the packet's destination port)
	OnIP           netip.Addr // --on-ip; invalid: the address the packet came to
	Mark, MarkMask uint32     // --tproxy-mark VALUE[/MASK]
}

func (t *TPROXY) Name() string    { return "TPROXY" }
func (t *TPROXY) Revision() uint8 { return 1 }
func (t *TPROXY) isTarget()       {}
func (t *TPROXY) check(f Family) error {
	if t.OnIP.IsValid() && t.OnIP.Is4() != (f == IPv4) {
		return invalid("TPROXY: --on-ip %s in an %s rule", t.OnIP, f)
	}
	return nil
}
func (t *TPROXY) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--on-port":
		v, err := p.uint(opt, 0, 0xffff)
		t.OnPort = uint16(v)
		return true, err
	case "--on-ip":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Is4() != (p.fam == IPv4) {
			return true, p.bad(s, "--on-ip wants an %s address", p.fam)
		}
		t.OnIP = a
		return true, nil
	case "--tproxy-mark":
		v, m, err := p.markMask(opt)
		t.Mark, t.MarkMask = v, m
		return true, err
	}
	return false, nil
}
func (t *TPROXY) save(b *textBuf, f Family) {
	ip := t.OnIP
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
		if f == IPv6 {
			ip = netip.IPv6Unspecified()
		}
	}
	b.WriteString(" --on-port " + strconv.Itoa(int(t.OnPort)) + " --on-ip " + ip.String() +
		" --tproxy-mark " + hexU32(t.Mark) + "/" + hexU32(t.MarkMask))
}

// mark_mask, mark_value, laddr (union nf_inet_addr), lport (network
// order): 26 bytes, 32 aligned.
func (t *TPROXY) info(Family) []byte {
	w := newWB(26)
	w.u32(0, t.MarkMask)
	w.u32(4, t.Mark)
	if t.OnIP.IsValid() {
		w.bytes(8, t.OnIP.AsSlice())
	}
	w.be16(24, t.OnPort)
	return w.b
}
func (t *TPROXY) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	t.MarkMask, t.Mark, t.OnPort = r.u32(0), r.u32(4), r.be16(24)
	t.OnIP = netip.Addr{}
	if f == IPv4 {
		if a := netip.AddrFrom4([4]byte(r.bytes(8, 4))); !a.IsUnspecified() {
			t.OnIP = a
		}
	} else if a := netip.AddrFrom16([16]byte(r.bytes(8, 16))); !a.IsUnspecified() {
		t.OnIP = a
	}
	return r.err("TPROXY", 26)
}
