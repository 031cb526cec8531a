package iptables

import (
	"strconv"
	"strings"
)

// This file holds -m set and -j SET. Both carry the kernel's ipset
// INDEX, not the set's name (struct xt_set_info). Parsing keeps the name;
// the index is looked up through the Conn, in the rule's namespace, when
// the rule is sent (Conn.Commit, Append, Restore, ... see sets.go), and a
// listed rule's index is turned back into the name the same way, like
// iptables does with getsockopt(SO_IP_SET).

// SetDir is the direction of one dimension of a set lookup: the packet's
// source or destination address/port.
type SetDir uint8

const (
	SetDst SetDir = iota // "dst"
	SetSrc               // "src"
)

func (d SetDir) String() string {
	if d == SetSrc {
		return "src"
	}
	return "dst"
}

// SetRef names an ipset and the directions of its dimensions, as in
// `--match-set NAME src,dst`.
type SetRef struct {
	Name string
	Dirs []SetDir // 1 to 6 (IPSET_DIM_MAX)

	// index is the kernel index read from a listed rule (or resolved),
	// valid for the name idxName; a changed Name is resolved again.
	index    uint16
	idxName  string
	hasIndex bool
}

const (
	ipsetInvalidID = 0xffff // IPSET_INVALID_ID
	ipsetDimMax    = 6      // IPSET_DIM_MAX
	ipsetInvMatch  = 1      // IPSET_INV_MATCH, in xt_set_info.flags
)

// Index returns the kernel index the reference was read with and whether
// there is one (listed rules; a parsed rule has none until it is sent).
func (s *SetRef) Index() (uint16, bool) {
	return s.index, s.hasIndex && s.idxName == s.Name
}

func (s *SetRef) given() bool { return s.Name != "" || s.hasIndex }

func (s *SetRef) check(what string) error {
	if s.Name == "" && s.hasIndex {
		return nil // decoded, name not looked up: re-encodes by index
	}
	if s.Name == "" || len(s.Name) > 31 || strings.IndexByte(s.Name, 0) >= 0 {
		return invalid("%s: set name %q (1 to 31 bytes)", what, s.Name)
	}
	if len(s.Dirs) == 0 || len(s.Dirs) > ipsetDimMax {
		return invalid("%s %s: %d directions (want 1 to %d)", what, s.Name, len(s.Dirs), ipsetDimMax)
	}
	for _, d := range s.Dirs {
		if d > SetSrc {
			return invalid("%s %s: direction %d", what, s.Name, d)
		}
	}
	return nil
}

// parseRef reads "NAME DIRS" after opt.
func parseRef(p *optParser, opt string) (SetRef, error) {
	name, err := p.value(opt)
	if err != nil {
		return SetRef{}, err
	}
	if name == "" || len(name) > 31 {
		return SetRef{}, p.bad(name, "setname %q: 1 to 31 characters", name)
	}
	dirs, err := p.value(opt)
	if err != nil {
		return SetRef{}, err
	}
	ref := SetRef{Name: name}
	for _, d := range strings.Split(dirs, ",") {
		switch d {
		case "src":
			ref.Dirs = append(ref.Dirs, SetSrc)
		case "dst":
			ref.Dirs = append(ref.Dirs, SetDst)
		default:
			return SetRef{}, p.bad(dirs, "%s: direction %q (want src or dst)", opt, d)
		}
	}
	if len(ref.Dirs) > ipsetDimMax {
		return SetRef{}, p.bad(dirs, "%s: more than %d directions", opt, ipsetDimMax)
	}
	return ref, nil
}

// saveRef prints " OPT NAME DIRS" (nothing for an unused reference).
func (s *SetRef) save(b *textBuf, opt string) {
	if !s.given() {
		return
	}
	b.WriteString(" " + opt + " ")
	if s.Name != "" {
		b.WriteString(s.Name)
	} else {
		// Read from the kernel without a name lookup (decoding alone).
		b.WriteString("#" + strconv.Itoa(int(s.index)))
	}
	for i, d := range s.Dirs {
		if i > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(d.String())
	}
}

// put writes struct xt_set_info at off: index, dim, flags (bit i set for
// a src dimension i, 1-based, plus extra). The index is the known one or
// IPSET_INVALID_ID, which the encoder records for the Conn to fill in.
func (s *SetRef) put(w *wb, off int, extra uint8) {
	if !s.given() {
		w.u16(off, ipsetInvalidID)
		return
	}
	idx, ok := s.Index()
	if !ok {
		idx = ipsetInvalidID
	}
	w.u16(off, idx)
	w.u8(off+2, uint8(len(s.Dirs)))
	w.u8(off+3, s.dirFlags()|extra)
}

func (s *SetRef) dirFlags() uint8 {
	var f uint8
	for i, d := range s.Dirs {
		if d == SetSrc {
			f |= 1 << (i + 1)
		}
	}
	return f
}

// get reads struct xt_set_info at off; it returns the flags beyond the
// directions. An unused reference (IPSET_INVALID_ID) stays zero.
func (s *SetRef) get(r *rb, off int) uint8 {
	idx, dim, fl := r.u16(off), r.u8(off+2), r.u8(off+3)
	*s = SetRef{}
	if idx == ipsetInvalidID {
		return fl
	}
	s.index, s.hasIndex = idx, true
	if dim > ipsetDimMax {
		dim = ipsetDimMax + 1 // re-encodes differently: kept opaque
	}
	for i := 1; i <= int(dim); i++ {
		if fl&(1<<i) != 0 {
			s.Dirs = append(s.Dirs, SetSrc)
		} else {
			s.Dirs = append(s.Dirs, SetDst)
		}
	}
	return fl &^ s.dirFlags()
}

// refs lists the references of a set match or SET target with their
// offsets in the info struct, for the index lookup.
type setRefs interface {
	refs() []refAt
}

type refAt struct {
	off int
	ref *SetRef
}

// SetCounterOp compares a set element's packet or byte counter
// (IPSET_COUNTER_*).
type SetCounterOp uint8

const (
	SetCounterNone SetCounterOp = iota
	SetCounterEq                // --packets-eq
	SetCounterNe                // ! --packets-eq
	SetCounterLt                // --packets-lt
	SetCounterGt                // --packets-gt
)

// SetCounter is a --packets-* / --bytes-* condition.
type SetCounter struct {
	Op    SetCounterOp
	Value uint64
}

// Set is -m set (struct xt_set_info_match_v4, which iptables-nft 1.8.9
// writes; revisions 1 and 3 are read and written back as they were).
type Set struct {
	Ref    SetRef // --match-set NAME DIRS
	Invert bool   // ! --match-set
	// ReturnNomatch is --return-nomatch; NoUpdateCounters and
	// NoUpdateSubcounters are ! --update-counters / ! --update-subcounters.
	ReturnNomatch, NoUpdateCounters, NoUpdateSubcounters bool
	Packets, Bytes                                       SetCounter
	rev                                                  uint8
}

// ipset command flags in xt_set_info_match_v3/v4.flags (IPSET_FLAG_*).
const (
	ipsetFlagExist          = 1 << 0
	ipsetFlagSkipCounters   = 1 << 3
	ipsetFlagSkipSubcounter = 1 << 4
	ipsetFlagReturnNomatch  = 1 << 7
	ipsetFlagMapMark        = 1 << 8
	ipsetFlagMapPrio        = 1 << 9
	ipsetFlagMapQueue       = 1 << 10
)

func (m *Set) Name() string { return "set" }
func (m *Set) Revision() uint8 {
	if m.rev == 0 {
		return 4
	}
	return m.rev
}
func (m *Set) setRevision(rev uint8) bool {
	m.rev = rev
	return rev == 1 || rev == 3 || rev == 4
}
func (m *Set) isMatch()      {}
func (m *Set) refs() []refAt { return []refAt{{0, &m.Ref}} }
func (m *Set) check(Family) error {
	if err := m.Ref.check("set match"); err != nil {
		return err
	}
	for _, c := range []SetCounter{m.Packets, m.Bytes} {
		if c.Op > SetCounterGt {
			return invalid("set match %s: counter op %d", m.Ref.Name, c.Op)
		}
	}
	if m.Revision() == 1 && (m.ReturnNomatch || m.NoUpdateCounters || m.NoUpdateSubcounters ||
		m.Packets.Op != 0 || m.Bytes.Op != 0) {
		return invalid("set match %s: revision 1 has no flags or counters", m.Ref.Name)
	}
	return nil
}
func (m *Set) parse(p *optParser, opt string, inv bool) (bool, error) {
	counter := func(c *SetCounter, op SetCounterOp) (bool, error) {
		if c.Op != SetCounterNone {
			return true, p.bad(opt, "only one of --%s-[eq|lt|gt] is allowed", strings.Split(opt[2:], "-")[0])
		}
		if inv && op != SetCounterEq {
			return true, p.bad(opt, "%s cannot be inverted", opt)
		}
		if inv {
			op = SetCounterNe
		}
		v, err := p.uint(opt, 0, 1<<64-1)
		*c = SetCounter{Op: op, Value: v}
		return true, err
	}
	switch opt {
	case "--match-set", "--set":
		if m.Ref.given() {
			return true, p.bad(opt, "--match-set can be specified only once")
		}
		ref, err := parseRef(p, opt)
		m.Ref, m.Invert = ref, inv
		return true, err
	case "--return-nomatch":
		if inv {
			return true, p.bad(opt, "--return-nomatch cannot be inverted")
		}
		m.ReturnNomatch = true
		return true, nil
	case "--update-counters":
		m.NoUpdateCounters = inv
		return true, nil
	case "--update-subcounters":
		m.NoUpdateSubcounters = inv
		return true, nil
	case "--packets-eq":
		return counter(&m.Packets, SetCounterEq)
	case "--packets-lt":
		return counter(&m.Packets, SetCounterLt)
	case "--packets-gt":
		return counter(&m.Packets, SetCounterGt)
	case "--bytes-eq":
		return counter(&m.Bytes, SetCounterEq)
	case "--bytes-lt":
		return counter(&m.Bytes, SetCounterLt)
	case "--bytes-gt":
		return counter(&m.Bytes, SetCounterGt)
	}
	return false, nil
}
func (m *Set) save(b *textBuf, _ Family) {
	b.WriteString(not(m.Invert))
	m.Ref.save(b, "--match-set")
	if m.ReturnNomatch {
		b.WriteString(" --return-nomatch")
	}
	if m.NoUpdateCounters {
		b.WriteString(" ! --update-counters")
	}
	if m.NoUpdateSubcounters {
		b.WriteString(" ! --update-subcounters")
	}
	for i, c := range []SetCounter{m.Packets, m.Bytes} {
		name := []string{"packets", "bytes"}[i]
		switch c.Op {
		case SetCounterEq:
			b.WriteString(" --" + name + "-eq ")
		case SetCounterNe:
			b.WriteString(" ! --" + name + "-eq ")
		case SetCounterLt:
			b.WriteString(" --" + name + "-lt ")
		case SetCounterGt:
			b.WriteString(" --" + name + "-gt ")
		default:
			continue
		}
		b.WriteString(strconv.FormatUint(c.Value, 10))
	}
}
func (m *Set) flags() uint32 {
	var f uint32
	if m.ReturnNomatch {
		f |= ipsetFlagReturnNomatch
	}
	if m.NoUpdateCounters {
		f |= ipsetFlagSkipCounters
	}
	if m.NoUpdateSubcounters {
		f |= ipsetFlagSkipSubcounter
	}
	return f
}

// Revision 1 is xt_set_info alone (4 bytes, 8 aligned). Revisions 3 and 4
// add packets and bytes counter conditions and u32 flags (44 bytes, 48
// aligned); in revision 3 a counter is {u8 op; u64 value}, in revision 4
// {u64 value; u8 op}.
func (m *Set) info(Family) []byte {
	var inv uint8
	if m.Invert {
		inv = ipsetInvMatch
	}
	if m.Revision() == 1 {
		w := newWB(4)
		m.Ref.put(w, 0, inv)
		return w.b
	}
	w := newWB(44)
	m.Ref.put(w, 0, inv)
	for i, c := range []SetCounter{m.Packets, m.Bytes} {
		off := 8 + 16*i
		if m.Revision() == 3 {
			w.u8(off, uint8(c.Op))
			w.u64(off+8, c.Value)
		} else {
			w.u64(off, c.Value)
			w.u8(off+8, uint8(c.Op))
		}
	}
	w.u32(40, m.flags())
	return w.b
}
func (m *Set) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	rev := m.Revision()
	*m = Set{rev: rev}
	fl := m.Ref.get(r, 0)
	m.Invert = fl&ipsetInvMatch != 0
	if rev == 1 {
		return r.err("set", 4)
	}
	for i, c := range []*SetCounter{&m.Packets, &m.Bytes} {
		off := 8 + 16*i
		if rev == 3 {
			c.Op, c.Value = SetCounterOp(r.u8(off)), r.u64(off+8)
		} else {
			c.Value, c.Op = r.u64(off), SetCounterOp(r.u8(off+8))
		}
	}
	f := r.u32(40)
	m.ReturnNomatch = f&ipsetFlagReturnNomatch != 0
	m.NoUpdateCounters = f&ipsetFlagSkipCounters != 0
	m.NoUpdateSubcounters = f&ipsetFlagSkipSubcounter != 0
	return r.err("set", 44)
}

// SETTarget is -j SET (struct xt_set_info_target_v3, which iptables-nft
// 1.8.9 writes; revisions 1 and 2 are read and written back as they
// were): add to and/or delete from a set, or map skb info from one.
type SETTarget struct {
	Add, Del, Map SetRef
	Exist         bool   // --exist
	Timeout       uint32 // --timeout; 0 with HasTimeout false means none (UINT32_MAX on the wire)
	HasTimeout    bool
	// MapMark, MapPrio, MapQueue are --map-mark / --map-prio / --map-queue.
	MapMark, MapPrio, MapQueue bool
	rev                        uint8
}

func (t *SETTarget) Name() string { return "SET" }
func (t *SETTarget) Revision() uint8 {
	if t.rev == 0 {
		return 3
	}
	return t.rev
}
func (t *SETTarget) setRevision(rev uint8) bool {
	t.rev = rev
	return rev >= 1 && rev <= 3
}
func (t *SETTarget) isTarget() {}
func (t *SETTarget) refs() []refAt {
	return []refAt{{0, &t.Add}, {4, &t.Del}, {8, &t.Map}}
}
func (t *SETTarget) check(Family) error {
	if !t.Add.given() && !t.Del.given() && !t.Map.given() {
		return invalid("SET: one of --add-set, --del-set or --map-set is required")
	}
	for i, r := range []*SetRef{&t.Add, &t.Del, &t.Map} {
		if r.given() {
			if err := r.check("SET " + []string{"--add-set", "--del-set", "--map-set"}[i]); err != nil {
				return err
			}
		}
	}
	rev := t.Revision()
	if rev < 3 && (t.Map.given() || t.MapMark || t.MapPrio || t.MapQueue) {
		return invalid("SET: revision %d has no --map-set", rev)
	}
	if rev < 2 && (t.Exist || t.HasTimeout) {
		return invalid("SET: revision 1 has no --exist or --timeout")
	}
	if (t.MapMark || t.MapPrio || t.MapQueue) && !t.Map.given() {
		return invalid("SET: --map-mark/--map-prio/--map-queue need --map-set")
	}
	if t.HasTimeout && t.Timeout == 0xffffffff {
		return invalid("SET: --timeout %d", t.Timeout)
	}
	return nil
}
func (t *SETTarget) parse(p *optParser, opt string, inv bool) (bool, error) {
	var ref *SetRef
	switch opt {
	case "--add-set":
		ref = &t.Add
	case "--del-set":
		ref = &t.Del
	case "--map-set":
		ref = &t.Map
	case "--exist":
		t.Exist = true
		return true, nil
	case "--timeout":
		v, err := p.uint(opt, 0, 0xfffffffe)
		t.Timeout, t.HasTimeout = uint32(v), true
		return true, err
	case "--map-mark":
		t.MapMark = true
		return true, nil
	case "--map-prio":
		t.MapPrio = true
		return true, nil
	case "--map-queue":
		t.MapQueue = true
		return true, nil
	default:
		return false, nil
	}
	if ref.given() {
		return true, p.bad(opt, "%s can be specified only once", opt)
	}
	r, err := parseRef(p, opt)
	*ref = r
	return true, err
}
func (t *SETTarget) save(b *textBuf, _ Family) {
	t.Add.save(b, "--add-set")
	if t.Exist {
		b.WriteString(" --exist")
	}
	if t.HasTimeout {
		b.WriteString(" --timeout " + strconv.FormatUint(uint64(t.Timeout), 10))
	}
	t.Del.save(b, "--del-set")
	t.Map.save(b, "--map-set")
	if t.MapMark {
		b.WriteString(" --map-mark")
	}
	if t.MapPrio {
		b.WriteString(" --map-prio")
	}
	if t.MapQueue {
		b.WriteString(" --map-queue")
	}
}

// Revision 1: add_set, del_set (8 bytes); 2: + u32 flags, u32 timeout
// (16); 3: add_set, del_set, map_set, flags, timeout (20, 24 aligned).
func (t *SETTarget) info(Family) []byte {
	rev := t.Revision()
	size := map[uint8]int{1: 8, 2: 16, 3: 20}[rev]
	w := newWB(size)
	t.Add.put(w, 0, 0)
	t.Del.put(w, 4, 0)
	if rev == 1 {
		return w.b
	}
	fo := 8
	if rev == 3 {
		t.Map.put(w, 8, 0)
		fo = 12
	}
	var f uint32
	if t.Exist {
		f |= ipsetFlagExist
	}
	if t.MapMark {
		f |= ipsetFlagMapMark
	}
	if t.MapPrio {
		f |= ipsetFlagMapPrio
	}
	if t.MapQueue {
		f |= ipsetFlagMapQueue
	}
	w.u32(fo, f)
	to := uint32(0xffffffff)
	if t.HasTimeout {
		to = t.Timeout
	}
	w.u32(fo+4, to)
	return w.b
}
func (t *SETTarget) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	rev := t.Revision()
	*t = SETTarget{rev: rev}
	t.Add.get(r, 0)
	t.Del.get(r, 4)
	if rev == 1 {
		return r.err("SET", 8)
	}
	fo := 8
	if rev == 3 {
		t.Map.get(r, 8)
		fo = 12
	}
	f := r.u32(fo)
	t.Exist = f&ipsetFlagExist != 0
	t.MapMark, t.MapPrio, t.MapQueue = f&ipsetFlagMapMark != 0, f&ipsetFlagMapPrio != 0, f&ipsetFlagMapQueue != 0
	if to := r.u32(fo + 4); to != 0xffffffff {
		t.Timeout, t.HasTimeout = to, true
	}
	return r.err("SET", fo+8)
}
