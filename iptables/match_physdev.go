package iptables

import (
	"strings"
)

// Physdev is -m physdev (struct xt_physdev_info): the bridge ports a
// bridged packet came in on or goes out of. Names ending in "+" match
// every port with that prefix.
type Physdev struct {
	In, Out string // --physdev-in / --physdev-out; "" when not given
	// Bitmask says which options are given, Invert which are negated
	// (PhysdevIn, PhysdevOut, PhysdevIsBridged, PhysdevIsIn, PhysdevIsOut).
	Bitmask, Invert uint8
}

// physdev option bits (XT_PHYSDEV_OP_*).
const (
	PhysdevIn        uint8 = 1
	PhysdevOut       uint8 = 2
	PhysdevIsBridged uint8 = 4
	PhysdevIsIn      uint8 = 8
	PhysdevIsOut     uint8 = 16
)

func (m *Physdev) Name() string    { return "physdev" }
func (m *Physdev) Revision() uint8 { return 0 }
func (m *Physdev) isMatch()        {}
func (m *Physdev) check(Family) error {
	for _, n := range []string{m.In, m.Out} {
		if len(n) > 15 || strings.IndexByte(n, 0) >= 0 {
			return invalid("physdev interface %q", n)
		}
	}
	if m.Bitmask == 0 || m.Bitmask&^31 != 0 || m.Invert&^m.Bitmask != 0 {
		return invalid("physdev options %#x inverted %#x", m.Bitmask, m.Invert)
	}
	return nil
}
func (m *Physdev) parse(p *optParser, opt string, inv bool) (bool, error) {
	bit := map[string]uint8{"--physdev-in": PhysdevIn, "--physdev-out": PhysdevOut,
		"--physdev-is-bridged": PhysdevIsBridged, "--physdev-is-in": PhysdevIsIn, "--physdev-is-out": PhysdevIsOut}[opt]
	if bit == 0 {
		return false, nil
	}
	m.Bitmask |= bit
	if inv {
		m.Invert |= bit
	}
	if bit == PhysdevIn || bit == PhysdevOut {
		s, err := p.value(opt)
		if err == nil && (s == "" || len(s) > 15) {
			err = p.bad(s, "interface name %q", s)
		}
		if bit == PhysdevIn {
			m.In = s
		} else {
			m.Out = s
		}
		return true, err
	}
	return true, nil
}
func (m *Physdev) save(b *textBuf, _ Family) {
	opt := func(bit uint8, s string) {
		if m.Bitmask&bit != 0 {
			b.WriteString(not(m.Invert&bit != 0) + s)
		}
	}
	opt(PhysdevIsIn, " --physdev-is-in")
	opt(PhysdevIn, " --physdev-in "+m.In)
	opt(PhysdevIsOut, " --physdev-is-out")
	opt(PhysdevOut, " --physdev-out "+m.Out)
	opt(PhysdevIsBridged, " --physdev-is-bridged")
}

// ifaceMask is the kernel's compare mask for an interface name: the name
// and its NUL, or for a "+" wildcard the prefix only.
func ifaceMask(name string) []byte {
	n := len(name) + 1
	if strings.HasSuffix(name, "+") {
		n = len(name) - 1
	}
	if name == "" {
		n = 0
	}
	return []byte(strings.Repeat("\xff", n))
}

// The struct: physindev[16], in_mask[16], physoutdev[16], out_mask[16],
// invert, bitmask: 66 bytes, 72 aligned.
func (m *Physdev) info(Family) []byte {
	w := newWB(66)
	if m.Bitmask&PhysdevIn != 0 {
		w.str(0, 16, m.In)
		w.bytes(16, ifaceMask(m.In))
	}
	if m.Bitmask&PhysdevOut != 0 {
		w.str(32, 16, m.Out)
		w.bytes(48, ifaceMask(m.Out))
	}
	w.u8(64, m.Invert)
	w.u8(65, m.Bitmask)
	return w.b
}
func (m *Physdev) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.In, m.Out = r.str(0, 16), r.str(32, 16)
	m.Invert, m.Bitmask = r.u8(64), r.u8(65)
	return r.err("physdev", 66)
}
