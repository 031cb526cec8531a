package iptables

import (
	"net/netip"
	"strconv"
	"strings"
)

// Matches socket, rpfilter, cgroup and connlimit. Layouts are the
// kernel's uapi structs (linux/netfilter/xt_*.h), in host byte order,
// checked byte for byte against iptables-nft 1.8.9 (testdata/rules.json).

// flagOpt is one flag option of a one-byte flag word.
type flagOpt struct {
	opt string
	bit uint8
}

// parseFlags sets the bit of opt, if it is one of opts.
func parseFlags(flags *uint8, opts []flagOpt, p *optParser, opt string, inv bool) (bool, error) {
	for _, o := range opts {
		if o.opt == opt {
			*flags |= o.bit
			return true, noInv(p, opt, inv)
		}
	}
	return false, nil
}

func saveFlags(b *textBuf, flags uint8, opts []flagOpt) {
	for _, o := range opts {
		if flags&o.bit != 0 {
			b.WriteString(" " + o.opt)
		}
	}
}

// Socket is -m socket (struct xt_socket_mtinfo3, revision 3).
type Socket struct {
	Flags uint8 // SocketTransparent | SocketNoWildcard | SocketRestoreSkmark
}

// Socket flags (XT_SOCKET_*).
const (
	SocketTransparent   uint8 = 1
	SocketNoWildcard    uint8 = 2
	SocketRestoreSkmark uint8 = 4
)

var socketOpts = []flagOpt{{"--transparent", SocketTransparent}, {"--nowildcard", SocketNoWildcard},
	{"--restore-skmark", SocketRestoreSkmark}}

func (m *Socket) Name() string    { return "socket" }
func (m *Socket) Revision() uint8 { return 3 }
func (m *Socket) isMatch()        {}
func (m *Socket) check(Family) error {
	if m.Flags&^7 != 0 {
		return invalid("socket flags %#x", m.Flags)
	}
	return nil
}
func (m *Socket) parse(p *optParser, opt string, inv bool) (bool, error) {
	return parseFlags(&m.Flags, socketOpts, p, opt, inv)
}
func (m *Socket) save(b *textBuf, _ Family) { saveFlags(b, m.Flags, socketOpts) }
func (m *Socket) info(Family) []byte {
	w := newWB(1)
	w.u8(0, m.Flags)
	return w.b
}
func (m *Socket) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Flags = r.u8(0)
	return r.err("socket", 1)
}

// RPFilter is -m rpfilter (struct xt_rpfilter_info).
type RPFilter struct {
	Flags uint8 // RPFilterLoose | RPFilterValidMark | RPFilterAcceptLocal | RPFilterInvert
}

// rpfilter flags (XT_RPFILTER_*).
const (
	RPFilterLoose       uint8 = 1
	RPFilterValidMark   uint8 = 2
	RPFilterAcceptLocal uint8 = 4
	RPFilterInvert      uint8 = 8
)

var rpfilterOpts = []flagOpt{{"--loose", RPFilterLoose}, {"--validmark", RPFilterValidMark},
	{"--accept-local", RPFilterAcceptLocal}, {"--invert", RPFilterInvert}}

func (m *RPFilter) Name() string    { return "rpfilter" }
func (m *RPFilter) Revision() uint8 { return 0 }
func (m *RPFilter) isMatch()        {}
func (m *RPFilter) check(Family) error {
	if m.Flags&^15 != 0 {
		return invalid("rpfilter flags %#x", m.Flags)
	}
	return nil
}
func (m *RPFilter) parse(p *optParser, opt string, inv bool) (bool, error) {
	return parseFlags(&m.Flags, rpfilterOpts, p, opt, inv)
}
func (m *RPFilter) save(b *textBuf, _ Family) { saveFlags(b, m.Flags, rpfilterOpts) }
func (m *RPFilter) info(Family) []byte {
	w := newWB(1)
	w.u8(0, m.Flags)
	return w.b
}
func (m *RPFilter) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.Flags = r.u8(0)
	return r.err("rpfilter", 1)
}

// Cgroup is -m cgroup (struct xt_cgroup_info_v2, revision 2): a cgroup v2
// path (--path) or a net_cls class id (--cgroup), either inverted.
type Cgroup struct {
	Path    string // at most 511 bytes; "" when ClassID is used
	ClassID uint32
	HasPath bool
	HasID   bool
	Invert  bool
}

const cgroupPathMax = 512 // XT_CGROUP_PATH_MAX

func (m *Cgroup) Name() string    { return "cgroup" }
func (m *Cgroup) Revision() uint8 { return 2 }
func (m *Cgroup) isMatch()        {}
func (m *Cgroup) check(Family) error {
	if m.HasPath == m.HasID {
		return invalid("cgroup: exactly one of --path and --cgroup")
	}
	if len(m.Path) >= cgroupPathMax || strings.IndexByte(m.Path, 0) >= 0 {
		return invalid("cgroup path %q", m.Path)
	}
	return nil
}
func (m *Cgroup) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--path":
		s, err := p.value(opt)
		m.Path, m.HasPath, m.Invert = s, true, inv
		return true, err
	case "--cgroup":
		v, err := p.uint(opt, 0, 0xffffffff)
		m.ClassID, m.HasID, m.Invert = uint32(v), true, inv
		return true, err
	}
	return false, nil
}
func (m *Cgroup) save(b *textBuf, _ Family) {
	if m.HasPath {
		b.WriteString(not(m.Invert) + " --path")
		quote(b, m.Path)
	}
	if m.HasID {
		b.WriteString(not(m.Invert) + " --cgroup " + strconv.FormatUint(uint64(m.ClassID), 10))
	}
}

// The struct: has_path, has_classid, invert_path, invert_classid (u8
// each), a union of path[512] and classid, then the kernel's priv
// pointer (8-byte aligned): 528 bytes.
func (m *Cgroup) info(Family) []byte {
	w := newWB(528)
	inv := uint8(0)
	if m.Invert {
		inv = 1
	}
	if m.HasPath {
		w.u8(0, 1)
		w.u8(2, inv)
		w.str(4, cgroupPathMax, m.Path)
	}
	if m.HasID {
		w.u8(1, 1)
		w.u8(3, inv)
		w.u32(4, m.ClassID)
	}
	return w.b
}
func (m *Cgroup) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.HasPath, m.HasID = r.u8(0) != 0, r.u8(1) != 0
	if m.HasPath {
		m.Path, m.Invert = r.str(4, cgroupPathMax), r.u8(2) != 0
	}
	if m.HasID {
		m.ClassID, m.Invert = r.u32(4), r.u8(3) != 0
	}
	return r.err("cgroup", 528)
}

// Connlimit is -m connlimit (struct xt_connlimit_info, revision 1).
// Upto is --connlimit-upto (the kernel's invert flag), else
// --connlimit-above. MaskBits is --connlimit-mask; -1 means not given
// (iptables-nft then writes an all-ones mask, and iptables-save prints
// the full length).
type Connlimit struct {
	Limit    uint32
	Upto     bool
	MaskBits int
	Daddr    bool // --connlimit-daddr; else --connlimit-saddr
}

// NewConnlimit returns a Connlimit without a mask.
func NewConnlimit() *Connlimit { return &Connlimit{MaskBits: -1} }

func (m *Connlimit) Name() string    { return "connlimit" }
func (m *Connlimit) Revision() uint8 { return 1 }
func (m *Connlimit) isMatch()        {}
func (m *Connlimit) check(f Family) error {
	if m.MaskBits < -1 || m.MaskBits > f.addrLen()*8 {
		return invalid("connlimit mask /%d", m.MaskBits)
	}
	return nil
}
func (m *Connlimit) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--connlimit-above", "--connlimit-upto":
		v, err := p.uint(opt, 0, 0xffffffff)
		// "! --connlimit-above" is --connlimit-upto and the reverse.
		m.Limit, m.Upto = uint32(v), (opt == "--connlimit-upto") != inv
		return true, err
	case "--connlimit-mask":
		v, err := p.uint(opt, 0, uint64(p.fam.addrLen()*8))
		m.MaskBits = int(v)
		return true, err
	case "--connlimit-saddr":
		m.Daddr = false
		return true, noInv(p, opt, inv)
	case "--connlimit-daddr":
		m.Daddr = true
		return true, noInv(p, opt, inv)
	}
	return false, nil
}
func (m *Connlimit) save(b *textBuf, f Family) {
	if m.Upto {
		b.WriteString(" --connlimit-upto ")
	} else {
		b.WriteString(" --connlimit-above ")
	}
	b.WriteString(strconv.FormatUint(uint64(m.Limit), 10))
	bits := m.MaskBits
	if bits < 0 {
		bits = f.addrLen() * 8
	}
	b.WriteString(" --connlimit-mask " + strconv.Itoa(bits))
	if m.Daddr {
		b.WriteString(" --connlimit-daddr")
	} else {
		b.WriteString(" --connlimit-saddr")
	}
}

// The struct: a 16-byte mask (union nf_inet_addr), limit, flags
// (XT_CONNLIMIT_INVERT 1, XT_CONNLIMIT_DADDR 2), the kernel's data
// pointer: 32 bytes.
func (m *Connlimit) info(Family) []byte {
	w := newWB(32)
	if m.MaskBits < 0 {
		for i := 0; i < 16; i++ {
			w.u8(i, 0xff)
		}
	} else {
		w.bytes(0, maskFromBits(128, m.MaskBits).AsSlice())
	}
	w.u32(16, m.Limit)
	var flags uint32
	if m.Upto {
		flags |= 1
	}
	if m.Daddr {
		flags |= 2
	}
	w.u32(20, flags)
	return w.b
}
func (m *Connlimit) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	mask := r.bytes(0, 16)
	m.MaskBits = -1
	if !allOnes(mask) {
		a, _ := netip.AddrFromSlice(mask)
		m.MaskBits = maskBits(a)
		if m.MaskBits < 0 || m.MaskBits > f.addrLen()*8 {
			return invalid("connlimit mask %x", mask)
		}
	}
	m.Limit = r.u32(16)
	flags := r.u32(20)
	m.Upto, m.Daddr = flags&1 != 0, flags&2 != 0
	if flags&^3 != 0 {
		return invalid("connlimit flags %#x", flags)
	}
	return r.err("connlimit", 32)
}

func allOnes(b []byte) bool {
	for _, x := range b {
		if x != 0xff {
			return false
		}
	}
	return len(b) > 0
}
