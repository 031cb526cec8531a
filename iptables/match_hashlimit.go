package iptables

import (
	"strconv"
	"strings"
)

// Hashlimit is -m hashlimit (struct xt_hashlimit_mtinfo3, revision 3, as
// iptables-nft 1.8.9 writes it): a token bucket per hash of the packet's
// addresses and ports, in a table the kernel keeps by Name.
//
// The fields hold what the kernel holds. Rules parsed from text get the
// values iptables computes (ParseRule); a Hashlimit built in Go is best
// started with NewHashlimit and SetRate. Zero GCInterval, Expire and (for
// a packet rate) Burst mean iptables' defaults, filled in when the rule is
// checked.
type Hashlimit struct {
	TableName string // --hashlimit-name (the kernel table, /proc/net/ipt_hashlimit/NAME): 1 to 254 bytes, no '/', not "." or ".."
	// Above is --hashlimit-above (or ! --hashlimit-upto): match while the
	// flow is over the rate. Otherwise --hashlimit-upto.
	Above bool
	// Avg is the rate as the kernel stores it. For a packet rate, the time
	// between packets in microseconds (10/sec is 100000, 5/min 12000000);
	// for a byte rate (Bytes), the cost of 16 bytes, 0xffffffff divided by
	// (bytes per second / 16 + 1). SetRate computes it from "10/sec" or
	// "512kb/s".
	Avg   uint64
	Bytes bool // Avg is a byte rate (XT_HASHLIMIT_BYTES)
	// Burst is --hashlimit-burst: packets (0 means 5); for a byte rate,
	// how many times the rate's byte quantum the bucket holds (0: none).
	Burst uint64
	Mode  uint8 // HashlimitSrcIP | HashlimitSrcPort | HashlimitDstIP | HashlimitDstPort (--hashlimit-mode)
	// SrcMask and DstMask are --hashlimit-srcmask/--hashlimit-dstmask,
	// prefix lengths; -1 is iptables' default, the address length (32 or
	// 128), which iptables-save omits.
	SrcMask, DstMask int
	Size             uint32 // --hashlimit-htable-size; 0 lets the kernel choose
	Max              uint32 // --hashlimit-htable-max; 0 lets the kernel choose
	GCInterval       uint32 // --hashlimit-htable-gcinterval, ms; 0 means 1000
	// Expire is --hashlimit-htable-expire, ms; 0 means iptables' default:
	// the rate's time unit (1000 for /sec, 60000 for /min ...), 15000 for
	// a byte rate, 60000 for a byte rate with a burst.
	Expire uint32
	// RateMatch is --hashlimit-rate-match: match flows over (or up to) the
	// rate without limiting them; RateInterval (--hashlimit-rate-interval,
	// seconds; 0 means 1) is the measuring interval.
	RateMatch    bool
	RateInterval uint32

	// pending holds what the command line gave that iptables only turns
	// into the struct once every option is read (its final check): the
	// rate's time unit, a byte burst, whether --hashlimit-htable-expire was
	// given.
	pending *hashlimitParse
}

type hashlimitParse struct {
	rateSet   bool
	mult      uint64 // seconds of the rate's unit; 15 for a byte rate (XT_HASHLIMIT_BYTE_EXPIRE)
	burst     uint64 // --hashlimit-burst as given, k/m applied
	burstSet  bool
	expireSet bool
}

// hashlimit mode bits (XT_HASHLIMIT_*).
const (
	HashlimitDstIP           uint8 = 1
	HashlimitDstPort         uint8 = 2
	HashlimitSrcIP           uint8 = 4
	HashlimitSrcPort         uint8 = 8
	hashlimitInvert                = 0x10
	hashlimitBytes                 = 0x20
	hashlimitRateMatch             = 0x40
	hashlimitScale                 = 1000000 // XT_HASHLIMIT_SCALE_v2
	hashlimitBurstMax              = 1000000 // packets, as iptables allows
	hashlimitMaxSize               = 1048576 // HASHLIMIT_MAX_SIZE: the kernel caps size and max at it
	hashlimitGCDefault             = 1000
	hashlimitByteExpire            = 15000 // XT_HASHLIMIT_BYTE_EXPIRE, ms
	hashlimitByteBurstExpire       = 60000 // XT_HASHLIMIT_BYTE_EXPIRE_BURST, ms
	hashlimitNameLen               = 255   // NAME_MAX: name field, NUL included
	u32max                         = 0xffffffff
)

// NewHashlimit returns a Hashlimit with iptables' default masks.
func NewHashlimit() *Hashlimit { return &Hashlimit{SrcMask: -1, DstMask: -1} }

func (m *Hashlimit) Name() string    { return "hashlimit" }
func (m *Hashlimit) Revision() uint8 { return 3 }
func (m *Hashlimit) isMatch()        {}

// SetRate sets Avg and Bytes from a rate as --hashlimit-upto takes it:
// "N", "N/sec", "N/minute" (any prefix of second, minute, hour, day) or
// "Nb/s", "Nkb/s", "Nmb/s". It also sets Expire to iptables' default for
// that rate (the unit's length, 15000 for a byte rate), and for a packet
// rate with RateMatch already set, divides Avg by the unit as iptables
// does.
func (m *Hashlimit) SetRate(s string) error {
	avg, bytes, mult, err := parseHashlimitRate(s)
	if err != nil {
		return invalid("hashlimit: rate %q: %v", s, err)
	}
	m.Avg, m.Bytes, m.Expire = avg, bytes, uint32(mult*1000)
	if m.RateMatch && !bytes {
		m.Avg /= mult
		if m.RateInterval == 0 {
			m.RateInterval = uint32(mult)
		}
	}
	return nil
}

// Rate is the rate as iptables-save prints it ("10/sec", "512kb/s").
func (m *Hashlimit) Rate() string {
	if m.Bytes {
		s, _ := hashlimitBytesText(m.Avg)
		return s
	}
	s, _ := hashlimitRateText(m.Avg)
	return s
}

type hashlimitErr string

func (e hashlimitErr) Error() string { return string(e) }

// parseHashlimitRate reads a rate as libxt_hashlimit does: a byte rate
// when it ends in b/s (k and m are 1024 and 1048576), else packets per
// unit. It returns the kernel's avg and the unit's seconds (15 for bytes:
// the default expiry is that many seconds).
func parseHashlimitRate(s string) (avg uint64, bytes bool, mult uint64, err error) {
	if num, ok := strings.CutSuffix(s, "b/s"); ok && num != "" {
		factor := uint64(1)
		switch num[len(num)-1] {
		case 'k':
			factor, num = 1024, num[:len(num)-1]
		case 'm':
			factor, num = 1024*1024, num[:len(num)-1]
		}
		v, err := decimal(num)
		if err != nil || v == 0 {
			return 0, false, 0, hashlimitErr("bad byte rate")
		}
		if v*factor < 16 {
			// Bytes are counted in 16-byte steps: a lower rate has no
			// quantum (iptables prints it as 0b/s, and divides by zero
			// on a burst).
			return 0, false, 0, hashlimitErr("byte rate below 16b/s")
		}
		if v > (1<<35-1)/factor {
			// The cost per 16 bytes would be below 2, which the kernel
			// refuses (and iptables' 32-bit arithmetic wraps past 2^36).
			return 0, false, 0, hashlimitErr("byte rate too high")
		}
		return bytesToCost(v * factor), true, hashlimitByteExpire / 1000, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	mult = 1
	if hasUnit {
		mult = 0
		for _, u := range []struct {
			name string
			secs uint64
		}{{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}} {
			if unit != "" && len(unit) <= len(u.name) && strings.EqualFold(unit, u.name[:len(unit)]) {
				mult = u.secs
				break
			}
		}
		if mult == 0 {
			return 0, false, 0, hashlimitErr("bad rate unit")
		}
	}
	r, err := decimal(num)
	if err != nil || r == 0 {
		return 0, false, 0, hashlimitErr("bad rate")
	}
	avg = hashlimitScale * mult / r
	if avg == 0 {
		return 0, false, 0, hashlimitErr("rate too fast")
	}
	return avg, false, mult, nil
}

// decimal parses a non-empty run of decimal digits.
func decimal(s string) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, hashlimitErr("not a number")
	}
	return strconv.ParseUint(s, 10, 64)
}

// costToBytes and bytesToCost convert between a byte rate and the cost
// per 16 bytes (XT_HASHLIMIT_BYTE_SHIFT), in libxt_hashlimit's integer
// arithmetic.
func costToBytes(cost uint64) uint64 {
	r := uint64(u32max)
	if cost != 0 {
		r = u32max / cost
	}
	return (r - 1) << 4
}

func bytesToCost(bytes uint64) uint64 {
	r := uint32(bytes >> 4)
	return u32max / (uint64(r) + 1)
}

var hashlimitRates = []struct {
	name string
	mult uint64
}{{"day", hashlimitScale * 86400}, {"hour", hashlimitScale * 3600}, {"min", hashlimitScale * 60}, {"sec", hashlimitScale}}

// hashlimitRateText prints a packet rate the way iptables does: the
// largest unit in which it is (close enough to) a whole number. It also
// returns that unit in ms, the expiry iptables-save leaves out.
func hashlimitRateText(period uint64) (string, uint32) {
	if period == 0 {
		return "inf", 0
	}
	i := 1
	for ; i < len(hashlimitRates); i++ {
		m := hashlimitRates[i].mult
		if period > m || m/period < m%period {
			break
		}
	}
	r := hashlimitRates[i-1]
	return strconv.FormatUint(r.mult/period, 10) + "/" + r.name, uint32(r.mult / hashlimitScale * 1000)
}

var hashlimitUnits = []struct {
	name   string
	thresh uint64
}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}

// hashlimitBytesText prints a byte rate as iptables does: in mb or kb
// only when that unit gives back the same cost.
func hashlimitBytesText(avg uint64) (string, uint64) {
	r := costToBytes(avg)
	i := 0
	for ; i < len(hashlimitUnits)-1; i++ {
		u := hashlimitUnits[i]
		if r >= u.thresh && bytesToCost(r&^(u.thresh-1)) == avg {
			break
		}
	}
	return strconv.FormatUint(r/hashlimitUnits[i].thresh, 10) + hashlimitUnits[i].name + "b/s", r
}

// hashlimitBurstText prints a byte burst as iptables does: the largest
// unit the byte count reaches, rounded down.
func hashlimitBurstText(bytes uint64) string {
	i := 0
	for ; i < len(hashlimitUnits)-1; i++ {
		if bytes >= hashlimitUnits[i].thresh {
			break
		}
	}
	return strconv.FormatUint(bytes/hashlimitUnits[i].thresh, 10) + hashlimitUnits[i].name + "b"
}

// parseBurst reads --hashlimit-burst: a number, optionally followed by k
// or m (times 1024, 1048576) and b, as libxt_hashlimit reads it.
func (p *optParser) parseBurst(opt string) (uint64, error) {
	s, err := p.value(opt)
	if err != nil {
		return 0, err
	}
	num := strings.TrimSuffix(s, "b")
	factor := uint64(1)
	switch {
	case strings.HasSuffix(num, "k"):
		factor, num = 1024, strings.TrimSuffix(num, "k")
	case strings.HasSuffix(num, "m"):
		factor, num = 1024*1024, strings.TrimSuffix(num, "m")
	}
	v, err := parseUint(num)
	if err != nil || v == 0 || num != s && v > ^uint64(0)/factor || num == s && v > hashlimitBurstMax {
		return 0, p.bad(s, "%s wants 1..%d packets or a byte count like 64kb", opt, hashlimitBurstMax)
	}
	return v * factor, nil
}

var hashlimitModes = []struct {
	name string
	bit  uint8
}{{"srcip", HashlimitSrcIP}, {"srcport", HashlimitSrcPort}, {"dstip", HashlimitDstIP}, {"dstport", HashlimitDstPort}}

func (m *Hashlimit) parse(p *optParser, opt string, inv bool) (bool, error) {
	if m.pending == nil {
		m.pending = &hashlimitParse{}
	}
	ps := m.pending
	switch opt {
	case "--hashlimit-upto", "--hashlimit-above", "--hashlimit":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if ps.rateSet {
			return true, p.bad(opt, "only one of --hashlimit-upto and --hashlimit-above")
		}
		avg, bytes, mult, err := parseHashlimitRate(s)
		if err != nil {
			return true, p.bad(s, "%s: %v", opt, err)
		}
		// "! --hashlimit-above" is --hashlimit-upto and the reverse.
		m.Above = (opt == "--hashlimit-above") != inv
		m.Avg, m.Bytes, ps.mult, ps.rateSet = avg, bytes, mult, true
		return true, nil
	case "--hashlimit-burst":
		v, err := p.parseBurst(opt)
		ps.burst, ps.burstSet = v, true
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	case "--hashlimit-mode":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' }) {
			known := false
			for _, md := range hashlimitModes {
				if tok == md.name {
					m.Mode |= md.bit
					known = true
				}
			}
			if !known {
				return true, p.bad(s, "--hashlimit-mode wants srcip, srcport, dstip, dstport separated by commas")
			}
		}
		return true, noInv(p, opt, inv)
	case "--hashlimit-srcmask", "--hashlimit-dstmask":
		v, err := p.uint(opt, 0, uint64(p.fam.addrLen()*8))
		if opt == "--hashlimit-srcmask" {
			m.SrcMask = int(v)
		} else {
			m.DstMask = int(v)
		}
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	case "--hashlimit-name":
		s, err := p.value(opt)
		m.TableName = s
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	case "--hashlimit-htable-size", "--hashlimit-htable-max", "--hashlimit-htable-gcinterval", "--hashlimit-htable-expire":
		lo := uint64(0)
		if opt == "--hashlimit-htable-gcinterval" || opt == "--hashlimit-htable-expire" {
			lo = 1 // the kernel refuses 0
		}
		v, err := p.uint(opt, lo, u32max)
		switch opt {
		case "--hashlimit-htable-size":
			m.Size = uint32(v)
		case "--hashlimit-htable-max":
			m.Max = uint32(v)
		case "--hashlimit-htable-gcinterval":
			m.GCInterval = uint32(v)
		default:
			m.Expire, ps.expireSet = uint32(v), true
		}
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	case "--hashlimit-rate-match":
		m.RateMatch = true
		return true, noInv(p, opt, inv)
	case "--hashlimit-rate-interval":
		v, err := p.uint(opt, 1, 0x7fffffff)
		m.RateInterval = uint32(v)
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	}
	return false, nil
}

// finishParse does what iptables' final check does with the options read:
// the default expiry from the rate's unit, a byte burst turned into a
// multiple of the rate's quantum, the rate-match division.
func (m *Hashlimit) finishParse() error {
	ps := m.pending
	m.pending = nil
	if !ps.rateSet {
		return invalid("hashlimit: --hashlimit-upto or --hashlimit-above is required")
	}
	if !ps.expireSet {
		m.Expire = uint32(ps.mult * 1000)
	}
	if m.Bytes {
		m.Burst = 0
		if ps.burstSet {
			q := costToBytes(m.Avg)
			if ps.burst < q {
				return invalid("hashlimit: burst cannot be smaller than %db", q)
			}
			m.Burst = (ps.burst + q - 1) / q
			if !ps.expireSet {
				m.Expire = hashlimitByteBurstExpire
			}
		}
	} else {
		m.Burst = 5
		if ps.burstSet {
			if ps.burst > hashlimitBurstMax {
				return invalid("hashlimit: --hashlimit-burst %d out of range (1-%d)", ps.burst, hashlimitBurstMax)
			}
			m.Burst = ps.burst
		}
	}
	if m.RateMatch {
		if !m.Bytes {
			m.Avg /= ps.mult
		}
		if m.RateInterval == 0 {
			m.RateInterval = 1
			if !m.Bytes {
				m.RateInterval = uint32(ps.mult)
			}
		}
	}
	return nil
}

// quantum is the expiry iptables-save leaves out: the printed rate's unit.
func (m *Hashlimit) quantum() uint32 {
	if m.Bytes {
		if m.Burst == 0 {
			return hashlimitByteExpire
		}
		return hashlimitByteBurstExpire
	}
	_, q := hashlimitRateText(m.Avg)
	return q
}

func (m *Hashlimit) check(f Family) error {
	if m.pending != nil {
		if err := m.finishParse(); err != nil {
			return err
		}
	}
	switch {
	case m.TableName == "" || len(m.TableName) >= hashlimitNameLen || m.TableName == "." || m.TableName == "..":
		return invalid("hashlimit: --hashlimit-name %q (1 to %d bytes)", m.TableName, hashlimitNameLen-1)
	case strings.ContainsAny(m.TableName, "/\x00"):
		return invalid("hashlimit: --hashlimit-name %q contains '/' or NUL", m.TableName)
	case strings.ContainsAny(m.TableName, " \t\n\r\"'\\"):
		// iptables-save prints the name unquoted: the line would not read back.
		return invalid("hashlimit: --hashlimit-name %q contains a blank or a quote", m.TableName)
	case m.Avg == 0:
		return invalid("hashlimit: no rate (Avg 0)")
	case m.Bytes && m.Avg < 2:
		return invalid("hashlimit: byte rate too high (cost %d)", m.Avg)
	case m.Bytes && costToBytes(m.Avg) == 0:
		return invalid("hashlimit: byte rate below 16b/s (cost %d)", m.Avg)
	case m.Mode&^0xf != 0:
		return invalid("hashlimit: mode %#x", m.Mode)
	case m.Size > hashlimitMaxSize || m.Max > hashlimitMaxSize:
		// The kernel would store a smaller value than the one given.
		return invalid("hashlimit: --hashlimit-htable-size/max %d/%d over the kernel's %d", m.Size, m.Max, hashlimitMaxSize)
	case m.RateMatch && m.Avg > u32max:
		return invalid("hashlimit: rate-match rate %d out of range", m.Avg)
	}
	for _, mask := range []int{m.SrcMask, m.DstMask} {
		if mask < -1 || mask > f.addrLen()*8 {
			return invalid("hashlimit: mask /%d in an %s rule", mask, f)
		}
	}
	if !m.Bytes {
		if m.Burst == 0 {
			m.Burst = 5
		}
		if m.Burst > hashlimitBurstMax {
			return invalid("hashlimit: burst %d out of range (1-%d)", m.Burst, hashlimitBurstMax)
		}
	}
	if m.GCInterval == 0 {
		m.GCInterval = hashlimitGCDefault
	}
	if m.Expire == 0 {
		m.Expire = m.quantum()
	}
	if m.RateMatch && m.RateInterval == 0 {
		m.RateInterval = 1
	}
	return nil
}

func (m *Hashlimit) save(b *textBuf, f Family) {
	if m.Above {
		b.WriteString(" --hashlimit-above ")
	} else {
		b.WriteString(" --hashlimit-upto ")
	}
	if m.Bytes {
		s, r := hashlimitBytesText(m.Avg)
		b.WriteString(s)
		if m.Burst != 0 {
			b.WriteString(" --hashlimit-burst " + hashlimitBurstText(r*m.Burst))
		}
	} else {
		s, _ := hashlimitRateText(m.Avg)
		burst := m.Burst
		if burst == 0 {
			burst = 5
		}
		b.WriteString(s + " --hashlimit-burst " + strconv.FormatUint(burst, 10))
	}
	if m.Mode&0xf != 0 {
		b.WriteString(" --hashlimit-mode ")
		sep := ""
		for _, md := range hashlimitModes {
			if m.Mode&md.bit != 0 {
				b.WriteString(sep + md.name)
				sep = ","
			}
		}
	}
	b.WriteString(" --hashlimit-name " + m.TableName)
	if m.Size != 0 {
		b.WriteString(" --hashlimit-htable-size " + strconv.FormatUint(uint64(m.Size), 10))
	}
	if m.Max != 0 {
		b.WriteString(" --hashlimit-htable-max " + strconv.FormatUint(uint64(m.Max), 10))
	}
	if m.GCInterval != 0 && m.GCInterval != hashlimitGCDefault {
		b.WriteString(" --hashlimit-htable-gcinterval " + strconv.FormatUint(uint64(m.GCInterval), 10))
	}
	if m.Expire != 0 && m.Expire != m.quantum() {
		b.WriteString(" --hashlimit-htable-expire " + strconv.FormatUint(uint64(m.Expire), 10))
	}
	bits := f.addrLen() * 8
	if m.SrcMask >= 0 && m.SrcMask != bits {
		b.WriteString(" --hashlimit-srcmask " + strconv.Itoa(m.SrcMask))
	}
	if m.DstMask >= 0 && m.DstMask != bits {
		b.WriteString(" --hashlimit-dstmask " + strconv.Itoa(m.DstMask))
	}
	if m.RateMatch {
		b.WriteString(" --hashlimit-rate-match")
		if m.RateInterval > 1 {
			b.WriteString(" --hashlimit-rate-interval " + strconv.FormatUint(uint64(m.RateInterval), 10))
		}
	}
}

// The struct: name[255], then struct hashlimit_cfg3 at 256 (avg, burst
// u64; mode, size, max, gc_interval, expire, interval u32; srcmask,
// dstmask u8), then the kernel's table pointer, 8-aligned at 304: 312
// bytes.
func (m *Hashlimit) info(f Family) []byte {
	w := newWB(312)
	w.str(0, hashlimitNameLen, m.TableName)
	w.u64(256, m.Avg)
	burst := m.Burst
	if burst == 0 && !m.Bytes {
		burst = 5
	}
	w.u64(264, burst)
	mode := uint32(m.Mode)
	if m.Above {
		mode |= hashlimitInvert
	}
	if m.Bytes {
		mode |= hashlimitBytes
	}
	if m.RateMatch {
		mode |= hashlimitRateMatch
	}
	w.u32(272, mode)
	w.u32(276, m.Size)
	w.u32(280, m.Max)
	gc := m.GCInterval
	if gc == 0 {
		gc = hashlimitGCDefault
	}
	w.u32(284, gc)
	exp := m.Expire
	if exp == 0 {
		exp = m.quantum()
	}
	w.u32(288, exp)
	w.u32(292, m.RateInterval)
	bits := f.addrLen() * 8
	for i, mask := range []int{m.SrcMask, m.DstMask} {
		if mask < 0 {
			mask = bits
		}
		w.u8(296+i, uint8(mask))
	}
	return w.b
}

func (m *Hashlimit) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	*m = Hashlimit{TableName: r.str(0, hashlimitNameLen), Avg: r.u64(256), Burst: r.u64(264)}
	mode := r.u32(272)
	m.Mode = uint8(mode & 0xf)
	m.Above, m.Bytes, m.RateMatch = mode&hashlimitInvert != 0, mode&hashlimitBytes != 0, mode&hashlimitRateMatch != 0
	m.Size, m.Max, m.GCInterval, m.Expire, m.RateInterval = r.u32(276), r.u32(280), r.u32(284), r.u32(288), r.u32(292)
	m.SrcMask, m.DstMask = int(r.u8(296)), int(r.u8(297))
	if err := r.err("hashlimit", 312); err != nil {
		return err
	}
	// What iptables-save could not print as a rule that reads back (no
	// rate, unknown mode bits, masks past the address, defaults as zero)
	// stays an opaque extension.
	bits := f.addrLen() * 8
	if mode&^0x7f != 0 || m.Avg == 0 || m.GCInterval == 0 || m.Expire == 0 || m.SrcMask > bits || m.DstMask > bits ||
		!m.Bytes && m.Burst == 0 {
		return invalid("hashlimit info not printable as iptables-save text")
	}
	return nil
}
