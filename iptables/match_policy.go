package iptables

import (
	"bytes"
	"strconv"
)

// Policy is -m policy (struct xt_policy_info): the IPsec policy a packet
// was decapsulated by (--dir in) or will be encapsulated by (--dir out).
type Policy struct {
	Out    bool // --dir out (else in)
	None   bool // --pol none (else ipsec)
	Strict bool // --strict
	// Elems are the policy elements, separated by --next on the command
	// line (at most 4). With --pol ipsec there is always at least one,
	// possibly empty, as iptables writes it.
	Elems []PolicyElem
}

// PolicyElem is one element of a policy match. Each condition is set when
// its Has bit is set and inverted when its Inv bit is (PolicyReqID, ...).
type PolicyElem struct {
	Has, Inv             uint8
	ReqID, SPI           uint32
	Proto                uint8 // 50 esp, 51 ah, 108 ipcomp
	Tunnel               bool  // --mode tunnel (else transport)
	TunnelSrc, TunnelDst Addr  // address and mask
}

// policy element condition bits (struct xt_policy_spec).
const (
	PolicySrc   uint8 = 1
	PolicyDst   uint8 = 2
	PolicyProto uint8 = 4
	PolicyMode  uint8 = 8
	PolicySPI   uint8 = 16
	PolicyReqID uint8 = 32
)

var policyProtos = map[uint8]string{50: "esp", 51: "ah", 108: "ipcomp"}

func (m *Policy) Name() string    { return "policy" }
func (m *Policy) Revision() uint8 { return 0 }
func (m *Policy) isMatch()        {}
func (m *Policy) check(f Family) error {
	if len(m.Elems) > 4 {
		return invalid("policy: %d elements (at most 4)", len(m.Elems))
	}
	if m.None && (m.Strict || len(m.Elems) > 0) {
		return invalid("policy: --pol none takes no --strict or element options")
	}
	for i, e := range m.Elems {
		if (e.Has&(PolicySrc|PolicyDst) != 0) && !(e.Has&PolicyMode != 0 && e.Tunnel) {
			return invalid("policy: element %d: --tunnel-src/--tunnel-dst only in tunnel mode", i)
		}
		for _, a := range []Addr{e.TunnelSrc, e.TunnelDst} {
			if a.Addr.IsValid() && a.Addr.Is4() != (f == IPv4) {
				return invalid("policy: tunnel address %s in an %s rule", a.Addr, f)
			}
		}
		if e.Inv&^e.Has != 0 {
			return invalid("policy: element %d inverts options it does not have", i)
		}
	}
	return nil
}
func (m *Policy) cur() *PolicyElem {
	if len(m.Elems) == 0 {
		m.Elems = append(m.Elems, PolicyElem{})
	}
	return &m.Elems[len(m.Elems)-1]
}
func (m *Policy) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--dir":
		s, err := p.value(opt)
		if err == nil && s != "in" && s != "out" {
			err = p.bad(s, "--dir in or out")
		}
		m.Out = s == "out"
		return true, err
	case "--pol":
		s, err := p.value(opt)
		if err == nil && s != "none" && s != "ipsec" {
			err = p.bad(s, "--pol none or ipsec")
		}
		m.None = s == "none"
		if !m.None && len(m.Elems) == 0 {
			m.Elems = []PolicyElem{{}}
		}
		return true, err
	case "--strict":
		m.Strict = true
		return true, nil
	case "--next":
		if len(m.Elems) >= 4 {
			return true, p.bad(opt, "at most 4 policy elements")
		}
		m.cur()
		m.Elems = append(m.Elems, PolicyElem{})
		return true, nil
	}
	bit := map[string]uint8{"--reqid": PolicyReqID, "--spi": PolicySPI, "--proto": PolicyProto,
		"--mode": PolicyMode, "--tunnel-src": PolicySrc, "--tunnel-dst": PolicyDst}[opt]
	if bit == 0 {
		return false, nil
	}
	e := m.cur()
	e.Has |= bit
	if inv {
		e.Inv |= bit
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	switch bit {
	case PolicyReqID, PolicySPI:
		v, err := parseUint(s)
		if err != nil || v > 0xffffffff {
			return true, p.bad(s, "%s wants a 32-bit number", opt)
		}
		if bit == PolicyReqID {
			e.ReqID = uint32(v)
		} else {
			e.SPI = uint32(v)
		}
	case PolicyProto:
		n := -1
		for k, v := range policyProtos {
			if v == s {
				n = int(k)
			}
		}
		if v, err := strconv.ParseUint(s, 10, 8); err == nil {
			n = int(v)
		}
		if n < 0 {
			return true, p.bad(s, "--proto esp, ah, ipcomp or a number")
		}
		e.Proto = uint8(n)
	case PolicyMode:
		if s != "tunnel" && s != "transport" {
			return true, p.bad(s, "--mode tunnel or transport")
		}
		e.Tunnel = s == "tunnel"
	default:
		a, err := parseAddr(p.fam, s)
		if err != nil {
			return true, p.bad(s, "%v", err)
		}
		if bit == PolicySrc {
			e.TunnelSrc = a
		} else {
			e.TunnelDst = a
		}
	}
	return true, nil
}
func (m *Policy) save(b *textBuf, f Family) {
	if m.Out {
		b.WriteString(" --dir out")
	} else {
		b.WriteString(" --dir in")
	}
	if m.None {
		b.WriteString(" --pol none")
	} else {
		b.WriteString(" --pol ipsec")
	}
	if m.Strict {
		b.WriteString(" --strict")
	}
	for i, e := range m.Elems {
		opt := func(bit uint8, s string) {
			if e.Has&bit != 0 {
				b.WriteString(not(e.Inv&bit != 0) + s)
			}
		}
		opt(PolicyReqID, " --reqid "+strconv.FormatUint(uint64(e.ReqID), 10))
		opt(PolicySPI, " --spi "+hexU32(e.SPI))
		proto := policyProtos[e.Proto]
		if proto == "" {
			proto = strconv.Itoa(int(e.Proto))
		}
		opt(PolicyProto, " --proto "+proto)
		mode := "transport"
		if e.Tunnel {
			mode = "tunnel"
		}
		opt(PolicyMode, " --mode "+mode)
		opt(PolicyDst, " --tunnel-dst "+policyAddr(e.TunnelDst))
		opt(PolicySrc, " --tunnel-src "+policyAddr(e.TunnelSrc))
		if i+1 < len(m.Elems) {
			b.WriteString(" --next")
		}
	}
}

// policyAddr prints ADDR, or ADDR/LEN for a shorter mask.
func policyAddr(a Addr) string {
	if !a.Addr.IsValid() {
		return ""
	}
	n := maskBits(a.Mask)
	if !a.Mask.IsValid() || n == a.Addr.BitLen() {
		return a.Addr.String()
	}
	if n < 0 {
		return a.Addr.String() + "/" + a.Mask.String()
	}
	return a.Addr.String() + "/" + strconv.Itoa(n)
}

// Each element: saddr, smask, daddr, dmask (union nf_inet_addr, 16
// bytes each; a full IPv4 mask is 16 bytes of ones, as iptables writes
// it), spi (network order), reqid, proto, mode, match, invert: 76
// bytes. Four elements, then u16 flags and u16 len: 308 bytes, 312
// aligned.
func (m *Policy) info(Family) []byte {
	w := newWB(308)
	for i, e := range m.Elems {
		if i >= 4 {
			break
		}
		o := 76 * i
		for j, a := range []Addr{e.TunnelSrc, e.TunnelDst} {
			if !a.Addr.IsValid() {
				continue
			}
			w.bytes(o+32*j, a.Addr.AsSlice())
			// A full mask is all 16 bytes of ones, a shorter IPv4 one
			// its 4 bytes and zeros (measured: what iptables-nft writes).
			mask := bytes.Repeat([]byte{0xff}, 16)
			if a.Mask.IsValid() && maskBits(a.Mask) != a.Addr.BitLen() {
				mask = make([]byte, 16)
				copy(mask, a.Mask.AsSlice())
			}
			w.bytes(o+32*j+16, mask)
		}
		w.be32(o+64, e.SPI)
		w.u32(o+68, e.ReqID)
		w.u8(o+72, e.Proto)
		if e.Tunnel {
			w.u8(o+73, 1)
		}
		w.u8(o+74, e.Has)
		w.u8(o+75, e.Inv)
	}
	var fl uint16 = 1 // XT_POLICY_MATCH_IN
	if m.Out {
		fl = 2
	}
	if m.None {
		fl |= 4
	}
	if m.Strict {
		fl |= 8
	}
	w.u16(304, fl)
	w.u16(306, uint16(len(m.Elems)))
	return w.b
}
func (m *Policy) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	fl, n := r.u16(304), int(r.u16(306))
	m.Out, m.None, m.Strict = fl&2 != 0, fl&4 != 0, fl&8 != 0
	m.Elems = nil
	if n > 4 {
		n = 4
	}
	al := f.addrLen()
	for i := 0; i < n; i++ {
		o := 76 * i
		e := PolicyElem{SPI: r.be32(o + 64), ReqID: r.u32(o + 68), Proto: r.u8(o + 72), Tunnel: r.u8(o+73) == 1,
			Has: r.u8(o + 74), Inv: r.u8(o + 75)}
		for j, bit := range []uint8{PolicySrc, PolicyDst} {
			if e.Has&bit == 0 {
				continue
			}
			var ab, mb [16]byte
			copy(ab[:], r.bytes(o+32*j, 16))
			copy(mb[:], r.bytes(o+32*j+16, 16))
			a := Addr{Addr: addrOf(ab, al), Mask: addrOf(mb, al)}
			if j == 0 {
				e.TunnelSrc = a
			} else {
				e.TunnelDst = a
			}
		}
		m.Elems = append(m.Elems, e)
	}
	return r.err("policy", 308)
}
