package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// conntrack match flags (XT_CONNTRACK_*).
const (
	ctState      = 1 << 0
	ctProto      = 1 << 1
	ctOrigSrc    = 1 << 2
	ctOrigDst    = 1 << 3
	ctReplSrc    = 1 << 4
	ctReplDst    = 1 << 5
	ctStatus     = 1 << 6
	ctExpires    = 1 << 7
	ctOrigSrcPt  = 1 << 8
	ctOrigDstPt  = 1 << 9
	ctReplSrcPt  = 1 << 10
	ctReplDstPt  = 1 << 11
	ctDirection  = 1 << 12
	ctStateAlias = 1 << 13
)

// Conntrack is -m conntrack, and -m state (struct xt_conntrack_mtinfo3;
// iptables-nft writes -m state as conntrack with the state-alias flag).
type Conntrack struct {
	Flags, Invert uint16 // which fields are set / inverted (XT_CONNTRACK_*)
	State         uint16 // XT_CONNTRACK_STATE bits
	Status        uint16 // IPS_* bits
	Proto         uint16
	Addr          [4]Addr      // origsrc, origdst, replsrc, repldst
	Port          [4]PortRange // same order
	ExpireMin     uint32
	ExpireMax     uint32
	stateAlias    bool
}

var ctStateNames = []struct {
	bit  uint16
	name string
}{{1, "INVALID"}, {8, "NEW"}, {4, "RELATED"}, {2, "ESTABLISHED"}, {1 << 8, "UNTRACKED"}, {1 << 6, "SNAT"}, {1 << 7, "DNAT"}}

var ctStatusNames = []struct {
	bit  uint16
	name string
}{{1, "EXPECTED"}, {2, "SEEN_REPLY"}, {4, "ASSURED"}, {8, "CONFIRMED"}}

var ctAddrOpts = []string{"--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"}
var ctPortOpts = []string{"--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport"}

func (m *Conntrack) Name() string { return "conntrack" }
func (m *Conntrack) saveName() string {
	if m.stateAlias {
		return "state"
	}
	return "conntrack"
}
func (m *Conntrack) Revision() uint8 { return 3 }
func (m *Conntrack) isMatch()        {}
func (m *Conntrack) check(f Family) error {
	for i, a := range m.Addr {
		if m.Flags&(ctOrigSrc<<i) != 0 && a.Addr.Is4() != (f == IPv4) {
			return invalid("conntrack: %s %s in an %s rule", ctAddrOpts[i], a.Addr, f)
		}
	}
	if m.stateAlias {
		m.Flags |= ctStateAlias
	}
	return nil
}

func (m *Conntrack) set(bit uint16, inv bool) {
	m.Flags |= bit
	if inv {
		m.Invert |= bit
	}
}

func (m *Conntrack) parse(p *optParser, opt string, inv bool) (bool, error) {
	if m.stateAlias {
		if opt != "--state" {
			return false, nil
		}
		opt = "--ctstate"
	}
	switch opt {
	case "--ctstate", "--ctstatus":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		names := ctStateNames
		if opt == "--ctstatus" {
			names = ctStatusNames
		}
		var v uint16
		for _, x := range strings.Split(s, ",") {
			found := false
			for _, n := range names {
				if strings.EqualFold(x, n.name) {
					v |= n.bit
					found = true
				}
			}
			if !found && !(opt == "--ctstatus" && x == "NONE") {
				return true, p.bad(s, "unknown %s %q", opt[2:], x)
			}
		}
		if opt == "--ctstate" {
			m.State = v
			m.set(ctState, inv)
		} else {
			m.Status = v
			m.set(ctStatus, inv)
		}
		return true, nil
	case "--ctproto":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		n, ok := protoNumber(s)
		if !ok || n == 0 {
			return true, p.bad(s, "bad protocol")
		}
		m.Proto = uint16(n)
		m.set(ctProto, inv)
		return true, nil
	case "--ctexpire":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		lo, hi, isRange := strings.Cut(s, ":")
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 32)
		}
		if err1 != nil || err2 != nil || a > b {
			return true, p.bad(s, "bad expire range")
		}
		m.ExpireMin, m.ExpireMax = uint32(a), uint32(b)
		m.set(ctExpires, inv)
		return true, nil
	case "--ctdir":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		m.Flags |= ctDirection
		switch strings.ToUpper(s) {
		case "ORIGINAL":
			m.Invert &^= ctDirection
		case "REPLY":
			m.Invert |= ctDirection
		default:
			return true, p.bad(s, "bad direction")
		}
		return true, nil
	}
	for i, o := range ctAddrOpts {
		if opt == o {
			s, err := p.value(opt)
			if err != nil {
				return true, err
			}
			a, err := parseAddr(p.fam, s)
			if err != nil {
				return true, p.bad(s, "%v", err)
			}
			m.Addr[i] = a
			m.set(ctOrigSrc<<i, inv)
			return true, nil
		}
	}
	for i, o := range ctPortOpts {
		if opt == o {
			r, err := p.portRange(opt)
			m.Port[i] = r
			m.set(ctOrigSrcPt<<i, inv)
			return true, err
		}
	}
	return false, nil
}

func (m *Conntrack) save(b *textBuf, f Family) {
	inv := func(bit uint16) string { return not(m.Invert&bit != 0) }
	if m.Flags&ctState != 0 {
		var s []string
		for _, n := range ctStateNames {
			if m.State&n.bit != 0 {
				s = append(s, n.name)
			}
		}
		if m.stateAlias {
			b.WriteString(inv(ctState) + " --state " + strings.Join(s, ","))
			return
		}
		b.WriteString(inv(ctState) + " --ctstate " + strings.Join(s, ","))
	}
	if m.Flags&ctProto != 0 {
		fmt.Fprintf(b, "%s --ctproto %d", inv(ctProto), m.Proto)
	}
	for i, o := range ctAddrOpts {
		if bit := uint16(ctOrigSrc << i); m.Flags&bit != 0 {
			a := m.Addr[i]
			s := a.Addr.String()
			if n := maskBits(a.Mask); n != a.Addr.BitLen() {
				s = a.String()
			}
			b.WriteString(inv(bit) + " " + o + " " + s)
		}
	}
	for i, o := range ctPortOpts {
		if bit := uint16(ctOrigSrcPt << i); m.Flags&bit != 0 {
			b.WriteString(inv(bit) + " " + o + " " + m.Port[i].String())
		}
	}
	if m.Flags&ctStatus != 0 {
		var s []string
		for _, n := range ctStatusNames {
			if m.Status&n.bit != 0 {
				s = append(s, n.name)
			}
		}
		if len(s) == 0 {
			s = []string{"NONE"}
		}
		b.WriteString(inv(ctStatus) + " --ctstatus " + strings.Join(s, ","))
	}
	if m.Flags&ctExpires != 0 {
		b.WriteString(inv(ctExpires) + " --ctexpire " + strconv.Itoa(int(m.ExpireMin)))
		if m.ExpireMax != m.ExpireMin {
			b.WriteString(":" + strconv.Itoa(int(m.ExpireMax)))
		}
	}
	if m.Flags&ctDirection != 0 {
		if m.Invert&ctDirection != 0 {
			b.WriteString(" --ctdir REPLY")
		} else {
			b.WriteString(" --ctdir ORIGINAL")
		}
	}
}

func (m *Conntrack) info(f Family) []byte {
	w := newWB(162)
	for i, a := range m.Addr {
		if a.Addr.IsValid() {
			w.bytes(32*i, a.Addr.AsSlice())
			mk := a.Mask.AsSlice()
			if maskBits(a.Mask) == a.Addr.BitLen() {
				// libxt_conntrack sets a host mask on all 16 bytes
				mk = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
			}
			w.bytes(32*i+16, mk)
		}
	}
	w.u32(128, m.ExpireMin)
	w.u32(132, m.ExpireMax)
	w.u16(136, m.Proto)
	for i, p := range m.Port {
		w.u16(138+2*i, p.Lo)
		w.u16(154+2*i, p.Hi)
	}
	w.u16(146, m.Flags)
	w.u16(148, m.Invert)
	w.u16(150, m.State)
	w.u16(152, m.Status)
	return w.b
}

func (m *Conntrack) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	n := f.addrLen()
	m.Flags, m.Invert = r.u16(146), r.u16(148)
	m.stateAlias = m.Flags&ctStateAlias != 0
	for i := range m.Addr {
		if m.Flags&(ctOrigSrc<<i) != 0 {
			a, _ := netip.AddrFromSlice(r.bytes(32*i, n))
			mk, _ := netip.AddrFromSlice(r.bytes(32*i+16, n))
			m.Addr[i] = Addr{Addr: a, Mask: mk}
		}
	}
	m.ExpireMin, m.ExpireMax, m.Proto = r.u32(128), r.u32(132), r.u16(136)
	for i := range m.Port {
		m.Port[i] = PortRange{r.u16(138 + 2*i), r.u16(154 + 2*i)}
	}
	m.State, m.Status = r.u16(150), r.u16(152)
	return r.err("conntrack", 162)
}
