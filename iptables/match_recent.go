package iptables

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// Recent is -m recent (struct xt_recent_mtinfo_v1): a list of recently
// seen addresses, checked, set, updated or removed.
type Recent struct {
	// Mode is what the match does: RecentSet, RecentCheck, RecentUpdate
	// or RecentRemove (--set, --rcheck, --update, --remove).
	Mode     uint8
	Invert   bool   // ! before the mode option
	Seconds  uint32 // --seconds
	HitCount uint32 // --hitcount
	Reap     bool   // --reap
	TTL      bool   // --rttl
	ListName string // --name; "DEFAULT" when not given
	Dest     bool   // --rdest (else --rsource)
	// Mask is --mask; invalid means iptables' default, all ones (every
	// byte of the 16-byte field set, unlike an explicit all-ones IPv4 mask).
	Mask netip.Addr
	// nameBuf is the name field as read (iptables copies the name over
	// "DEFAULT", leaving its tail after the NUL): kept to re-encode it.
	nameBuf []byte
}

// recent modes (XT_RECENT_*).
const (
	RecentCheck  uint8 = 1
	RecentSet    uint8 = 2
	RecentUpdate uint8 = 4
	RecentRemove uint8 = 8
	recentTTL    uint8 = 16
	recentReap   uint8 = 32
)

func (m *Recent) Name() string    { return "recent" }
func (m *Recent) Revision() uint8 { return 1 }
func (m *Recent) isMatch()        {}
func (m *Recent) check(f Family) error {
	switch m.Mode {
	case RecentCheck, RecentSet, RecentUpdate, RecentRemove:
	default:
		return invalid("recent: one of --set, --rcheck, --update or --remove is required (mode %#x)", m.Mode)
	}
	if m.ListName == "" {
		m.ListName = "DEFAULT"
	}
	if len(m.ListName) > 199 || strings.IndexByte(m.ListName, 0) >= 0 {
		return invalid("recent: --name %q", m.ListName)
	}
	if (m.TTL || m.Reap || m.Seconds != 0 || m.HitCount != 0) && m.Mode != RecentCheck && m.Mode != RecentUpdate {
		return invalid("recent: --seconds/--hitcount/--rttl/--reap need --rcheck or --update")
	}
	if m.Reap && m.Seconds == 0 {
		return invalid("recent: --reap needs --seconds")
	}
	if m.Mask.IsValid() && m.Mask.Is4() != (f == IPv4) {
		return invalid("recent: --mask %s in an %s rule", m.Mask, f)
	}
	return nil
}
func (m *Recent) parse(p *optParser, opt string, inv bool) (bool, error) {
	mode := map[string]uint8{"--set": RecentSet, "--rcheck": RecentCheck, "--update": RecentUpdate, "--remove": RecentRemove}[opt]
	if mode != 0 {
		if m.Mode != 0 {
			return true, p.bad(opt, "only one of --set, --rcheck, --update or --remove")
		}
		m.Mode, m.Invert = mode, inv
		return true, nil
	}
	switch opt {
	case "--seconds", "--hitcount":
		v, err := p.uint(opt, 0, 0xffffffff)
		if opt == "--seconds" {
			m.Seconds = uint32(v)
		} else {
			m.HitCount = uint32(v)
		}
		return true, err
	case "--reap":
		m.Reap = true
		return true, nil
	case "--rttl":
		m.TTL = true
		return true, nil
	case "--name":
		s, err := p.value(opt)
		if err == nil && (s == "" || len(s) > 199) {
			err = p.bad(s, "--name of 1 to 199 characters")
		}
		m.ListName = s
		return true, err
	case "--rsource", "--rdest":
		m.Dest = opt == "--rdest"
		return true, nil
	case "--mask":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Is4() != (p.fam == IPv4) {
			return true, p.bad(s, "--mask wants an %s address", p.fam)
		}
		m.Mask = a
		return true, nil
	}
	return false, nil
}
func (m *Recent) save(b *textBuf, f Family) {
	b.WriteString(not(m.Invert))
	for _, x := range []struct {
		bit  uint8
		name string
	}{{RecentSet, " --set"}, {RecentCheck, " --rcheck"}, {RecentUpdate, " --update"}, {RecentRemove, " --remove"}} {
		if m.Mode&x.bit != 0 {
			b.WriteString(x.name)
		}
	}
	if m.Seconds != 0 {
		b.WriteString(" --seconds " + strconv.FormatUint(uint64(m.Seconds), 10))
	}
	if m.Reap {
		b.WriteString(" --reap")
	}
	if m.HitCount != 0 {
		b.WriteString(" --hitcount " + strconv.FormatUint(uint64(m.HitCount), 10))
	}
	if m.TTL {
		b.WriteString(" --rttl")
	}
	name := m.ListName
	if name == "" {
		name = "DEFAULT"
	}
	b.WriteString(" --name " + name)
	mask := m.Mask
	if !mask.IsValid() {
		mask = onesAddr(f)
	}
	b.WriteString(" --mask " + mask.String())
	if m.Dest {
		b.WriteString(" --rdest")
	} else {
		b.WriteString(" --rsource")
	}
}

func onesAddr(f Family) netip.Addr {
	if f == IPv6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff,
			8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	}
	return netip.AddrFrom4([4]byte{0xff, 0xff, 0xff, 0xff})
}

// recentNameBuf is the name field as iptables fills it: "DEFAULT", then
// the name and its NUL copied over it.
func recentNameBuf(name string) []byte {
	b := make([]byte, 200)
	copy(b, "DEFAULT")
	copy(b, name+"\x00")
	return b
}

// seconds, hit_count, check_set, invert, name[200], side, then the mask
// (union nf_inet_addr at offset 212): 228 bytes, 232 aligned.
func (m *Recent) info(Family) []byte {
	w := newWB(228)
	w.u32(0, m.Seconds)
	w.u32(4, m.HitCount)
	cs := m.Mode
	if m.TTL {
		cs |= recentTTL
	}
	if m.Reap {
		cs |= recentReap
	}
	w.u8(8, cs)
	if m.Invert {
		w.u8(9, 1)
	}
	name := m.ListName
	if name == "" {
		name = "DEFAULT"
	}
	if len(m.nameBuf) == 200 && string(bytes.SplitN(m.nameBuf, []byte{0}, 2)[0]) == name {
		w.bytes(10, m.nameBuf)
	} else {
		w.bytes(10, recentNameBuf(name))
	}
	if m.Dest {
		w.u8(210, 1)
	}
	if m.Mask.IsValid() {
		w.bytes(212, m.Mask.AsSlice())
	} else {
		w.bytes(212, bytes.Repeat([]byte{0xff}, 16))
	}
	return w.b
}
func (m *Recent) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	m.Seconds, m.HitCount = r.u32(0), r.u32(4)
	cs := r.u8(8)
	m.Mode = cs &^ (recentTTL | recentReap)
	m.TTL, m.Reap = cs&recentTTL != 0, cs&recentReap != 0
	m.Invert = r.u8(9) != 0
	m.nameBuf = r.bytes(10, 200)
	m.ListName = r.str(10, 200)
	m.Dest = r.u8(210) == 1
	mask := r.bytes(212, 16)
	m.Mask = netip.Addr{}
	if !bytes.Equal(mask, bytes.Repeat([]byte{0xff}, 16)) {
		if f == IPv4 {
			m.Mask = netip.AddrFrom4([4]byte(mask[:4]))
		} else {
			m.Mask = netip.AddrFrom16([16]byte(mask))
		}
	}
	return r.err("recent", 228)
}
