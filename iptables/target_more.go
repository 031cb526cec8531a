package iptables

import (
	"fmt"
	"strconv"
	"strings"
)

// This file holds the small fixed-layout xt targets: TCPMSS, DSCP, TOS,
// TTL/HL, CHECKSUM, CLASSIFY and NFQUEUE (uapi structs of
// linux/netfilter*/xt_*.h, checked against testdata/rules.json).

// TCPMSS is -j TCPMSS --set-mss N / --clamp-mss-to-pmtu (struct
// xt_tcpmss_info; MSS 0xffff means clamp to the path MTU).
type TCPMSS struct{ MSS uint16 }

// ClampMSSToPMTU is the TCPMSS value of --clamp-mss-to-pmtu.
const ClampMSSToPMTU = 0xffff

func (t *TCPMSS) Name() string    { return "TCPMSS" }
func (t *TCPMSS) Revision() uint8 { return 0 }
func (t *TCPMSS) isTarget()       {}
func (t *TCPMSS) check(Family) error {
	if t.MSS == 0 {
		return invalid("TCPMSS: --set-mss or --clamp-mss-to-pmtu required")
	}
	return nil
}
func (t *TCPMSS) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--clamp-mss-to-pmtu":
		t.MSS = ClampMSSToPMTU
		return true, noInv(p, opt, inv)
	case "--set-mss":
		v, err := p.uint(opt, 1, 0xfffe)
		t.MSS = uint16(v)
		if err == nil {
			err = noInv(p, opt, inv)
		}
		return true, err
	}
	return false, nil
}
func (t *TCPMSS) save(b *textBuf, _ Family) {
	if t.MSS == ClampMSSToPMTU {
		b.WriteString(" --clamp-mss-to-pmtu")
		return
	}
	b.WriteString(" --set-mss " + strconv.Itoa(int(t.MSS)))
}
func (t *TCPMSS) info(Family) []byte {
	w := newWB(2)
	w.u16(0, t.MSS)
	return w.b
}
func (t *TCPMSS) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.MSS = r.u16(0)
	return r.err("TCPMSS", 2)
}

// DSCP is -j DSCP --set-dscp VALUE / --set-dscp-class NAME (struct
// xt_DSCP_info).
type DSCP struct{ Value uint8 }

func (t *DSCP) Name() string    { return "DSCP" }
func (t *DSCP) Revision() uint8 { return 0 }
func (t *DSCP) isTarget()       {}
func (t *DSCP) check(Family) error {
	if t.Value > 63 {
		return invalid("DSCP: %d above 63", t.Value)
	}
	return nil
}
func (t *DSCP) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--set-dscp" && opt != "--set-dscp-class" {
		return false, nil
	}
	v, err := p.parseDSCP(opt)
	t.Value = v
	if err == nil {
		err = noInv(p, opt, inv)
	}
	return true, err
}
func (t *DSCP) save(b *textBuf, _ Family) { fmt.Fprintf(b, " --set-dscp 0x%02x", t.Value) }
func (t *DSCP) info(Family) []byte {
	w := newWB(1)
	w.u8(0, t.Value)
	return w.b
}
func (t *DSCP) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Value = r.u8(0)
	return r.err("DSCP", 1)
}

// TOS is -j TOS (struct xt_tos_target_info, revision 1): the TOS bits in
// Mask are cleared, then Value is XORed in. --and-tos, --or-tos and
// --xor-tos are stored in that form and saved as --set-tos VALUE/MASK, as
// iptables-save does.
type TOS struct{ Value, Mask uint8 }

func (t *TOS) Name() string       { return "TOS" }
func (t *TOS) Revision() uint8    { return 1 }
func (t *TOS) isTarget()          {}
func (t *TOS) check(Family) error { return nil }
func (t *TOS) parse(p *optParser, opt string, inv bool) (bool, error) {
	var err error
	switch opt {
	case "--set-tos":
		t.Value, t.Mask, err = p.parseTOS(opt)
	case "--and-tos", "--or-tos", "--xor-tos":
		var v uint64
		v, err = p.uint(opt, 0, 255)
		switch opt {
		case "--and-tos":
			t.Value, t.Mask = 0, ^uint8(v)
		case "--or-tos":
			t.Value, t.Mask = uint8(v), uint8(v)
		default:
			t.Value, t.Mask = uint8(v), 0
		}
	default:
		return false, nil
	}
	if err == nil {
		err = noInv(p, opt, inv)
	}
	return true, err
}
func (t *TOS) save(b *textBuf, _ Family) {
	fmt.Fprintf(b, " --set-tos 0x%02x/0x%02x", t.Value, t.Mask)
}
func (t *TOS) info(Family) []byte {
	w := newWB(2)
	w.u8(0, t.Value)
	w.u8(1, t.Mask)
	return w.b
}
func (t *TOS) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Value, t.Mask = r.u8(0), r.u8(1)
	return r.err("TOS", 2)
}

// TTL modes (IPT_TTL_SET, _INC, _DEC; the same for HL).
const (
	TTLSet uint8 = iota
	TTLInc
	TTLDec
)

// TTL is -j TTL --ttl-set/--ttl-inc/--ttl-dec N (struct ipt_TTL_info), or
// for IPv6 -j HL --hl-set/... (struct ip6t_HL_info) when V6 is set.
type TTL struct {
	Mode  uint8
	Value uint8
	V6    bool
}

func (t *TTL) Name() string {
	if t.V6 {
		return "HL"
	}
	return "TTL"
}
func (t *TTL) Revision() uint8 { return 0 }
func (t *TTL) isTarget()       {}
func (t *TTL) check(f Family) error {
	if t.V6 != (f == IPv6) {
		return invalid("-j %s is not for family %s", t.Name(), f)
	}
	if t.Mode > TTLDec {
		return invalid("%s: mode %d", t.Name(), t.Mode)
	}
	if t.Mode != TTLSet && t.Value == 0 {
		return invalid("%s: increment/decrement by 0", t.Name())
	}
	return nil
}
func (t *TTL) prefix() string { return "--" + strings.ToLower(t.Name()) + "-" }
func (t *TTL) parse(p *optParser, opt string, inv bool) (bool, error) {
	if !strings.HasPrefix(opt, t.prefix()) {
		return false, nil
	}
	md, ok := map[string]uint8{"set": TTLSet, "inc": TTLInc, "dec": TTLDec}[strings.TrimPrefix(opt, t.prefix())]
	if !ok {
		return false, nil
	}
	v, err := p.uint(opt, 0, 255)
	t.Mode, t.Value = md, uint8(v)
	if err == nil {
		err = noInv(p, opt, inv)
	}
	return true, err
}
func (t *TTL) save(b *textBuf, _ Family) {
	b.WriteString(" " + t.prefix() + []string{"set", "inc", "dec"}[t.Mode%3] + " " + strconv.Itoa(int(t.Value)))
}
func (t *TTL) info(Family) []byte {
	w := newWB(2)
	w.u8(0, t.Mode)
	w.u8(1, t.Value)
	return w.b
}
func (t *TTL) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	t.Mode, t.Value, t.V6 = r.u8(0), r.u8(1), f == IPv6
	if t.Mode > TTLDec {
		return fmt.Errorf("TTL mode %d", t.Mode)
	}
	return r.err(t.Name(), 2)
}

// CHECKSUM is -j CHECKSUM --checksum-fill (struct xt_CHECKSUM_info).
type CHECKSUM struct{}

func (t *CHECKSUM) Name() string       { return "CHECKSUM" }
func (t *CHECKSUM) Revision() uint8    { return 0 }
func (t *CHECKSUM) isTarget()          {}
func (t *CHECKSUM) check(Family) error { return nil }
func (t *CHECKSUM) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--checksum-fill" {
		return false, nil
	}
	return true, noInv(p, opt, inv)
}
func (t *CHECKSUM) save(b *textBuf, _ Family) { b.WriteString(" --checksum-fill") }
func (t *CHECKSUM) info(Family) []byte {
	w := newWB(1)
	w.u8(0, 1) // XT_CHECKSUM_OP_FILL
	return w.b
}
func (t *CHECKSUM) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	if r.u8(0) != 1 {
		return fmt.Errorf("CHECKSUM operation %d", r.u8(0))
	}
	return r.err("CHECKSUM", 1)
}

// CLASSIFY is -j CLASSIFY --set-class MAJOR:MINOR (struct
// xt_classify_target_info: the tc class handle MAJOR<<16 | MINOR).
type CLASSIFY struct{ Class uint32 }

func (t *CLASSIFY) Name() string       { return "CLASSIFY" }
func (t *CLASSIFY) Revision() uint8    { return 0 }
func (t *CLASSIFY) isTarget()          {}
func (t *CLASSIFY) check(Family) error { return nil }
func (t *CLASSIFY) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--set-class" {
		return false, nil
	}
	s, err := p.value(opt)
	if err != nil {
		return true, err
	}
	a, c, ok := strings.Cut(s, ":")
	maj, err1 := strconv.ParseUint(a, 16, 16)
	min, err2 := strconv.ParseUint(c, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return true, p.bad(s, "class must be MAJOR:MINOR in hex")
	}
	t.Class = uint32(maj)<<16 | uint32(min)
	return true, noInv(p, opt, inv)
}
func (t *CLASSIFY) save(b *textBuf, _ Family) {
	fmt.Fprintf(b, " --set-class %04x:%04x", t.Class>>16, t.Class&0xffff)
}
func (t *CLASSIFY) info(Family) []byte {
	w := newWB(4)
	w.u32(0, t.Class)
	return w.b
}
func (t *CLASSIFY) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Class = r.u32(0)
	return r.err("CLASSIFY", 4)
}

// NFQUEUE is -j NFQUEUE (struct xt_NFQ_info_v3): queue Num, or with
// Total > 1 the queues Num..Num+Total-1 (--queue-balance).
type NFQUEUE struct {
	Num, Total uint16
	Bypass     bool
	CPUFanout  bool
}

func (t *NFQUEUE) Name() string    { return "NFQUEUE" }
func (t *NFQUEUE) Revision() uint8 { return 3 }
func (t *NFQUEUE) isTarget()       {}
func (t *NFQUEUE) check(Family) error {
	if t.Total > 1 && uint32(t.Num)+uint32(t.Total)-1 > 0xffff {
		return invalid("NFQUEUE: queues %d..%d beyond 65535", t.Num, uint32(t.Num)+uint32(t.Total)-1)
	}
	return nil
}
func (t *NFQUEUE) parse(p *optParser, opt string, inv bool) (bool, error) {
	var err error
	switch opt {
	case "--queue-num":
		var v uint64
		v, err = p.uint(opt, 0, 0xffff)
		t.Num, t.Total = uint16(v), 1
	case "--queue-balance":
		var s string
		if s, err = p.value(opt); err != nil {
			return true, err
		}
		lo, hi, e := parseRange16(s)
		if e != nil || hi <= lo || !strings.Contains(s, ":") {
			return true, p.bad(s, "--queue-balance needs FIRST:LAST with FIRST < LAST")
		}
		t.Num, t.Total = lo, hi-lo+1
	case "--queue-bypass":
		t.Bypass = true
	case "--queue-cpu-fanout":
		t.CPUFanout = true
	default:
		return false, nil
	}
	if err == nil {
		err = noInv(p, opt, inv)
	}
	return true, err
}
func (t *NFQUEUE) save(b *textBuf, _ Family) {
	if t.Total > 1 {
		b.WriteString(" --queue-balance " + strconv.Itoa(int(t.Num)) + ":" + strconv.Itoa(int(t.Num)+int(t.Total)-1))
	} else {
		b.WriteString(" --queue-num " + strconv.Itoa(int(t.Num)))
	}
	if t.Bypass {
		b.WriteString(" --queue-bypass")
	}
	if t.CPUFanout {
		b.WriteString(" --queue-cpu-fanout")
	}
}
func (t *NFQUEUE) info(Family) []byte {
	w := newWB(6)
	w.u16(0, t.Num)
	total := t.Total
	if total == 0 {
		total = 1
	}
	w.u16(2, total)
	var flags uint16
	if t.Bypass {
		flags |= 1 // NFQ_FLAG_BYPASS
	}
	if t.CPUFanout {
		flags |= 2 // NFQ_FLAG_CPU_FANOUT
	}
	w.u16(4, flags)
	return w.b
}
func (t *NFQUEUE) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Num, t.Total = r.u16(0), r.u16(2)
	flags := r.u16(4)
	t.Bypass, t.CPUFanout = flags&1 != 0, flags&2 != 0
	if flags&^3 != 0 {
		return fmt.Errorf("NFQUEUE flags %#x", flags)
	}
	return r.err("NFQUEUE", 6)
}
