package iptables

import (
	"strconv"
	"strings"
)

// MARK is -j MARK (struct xt_mark_tginfo2): mark = (mark & ^Mask) ^ Value.
// Every option form (--set-mark, --and-mark, --or-mark, ...) is stored as
// the xmark pair and saved as --set-xmark, as iptables-save does.
type MARK struct{ Value, Mask uint32 }

func (t *MARK) Name() string       { return "MARK" }
func (t *MARK) Revision() uint8    { return 2 }
func (t *MARK) isTarget()          {}
func (t *MARK) check(Family) error { return nil }
func (t *MARK) parse(p *optParser, opt string, inv bool) (bool, error) {
	v, m, err := parseXmark(p, opt)
	if err == errNotOurs {
		return false, nil
	}
	t.Value, t.Mask = v, m
	return true, err
}
func (t *MARK) save(b *textBuf, _ Family) {
	b.WriteString(" --set-xmark " + hexU32(t.Value) + "/" + hexU32(t.Mask))
}
func (t *MARK) info(Family) []byte {
	w := newWB(8)
	w.u32(0, t.Value)
	w.u32(4, t.Mask)
	return w.b
}
func (t *MARK) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Value, t.Mask = r.u32(0), r.u32(4)
	return r.err("MARK", 8)
}

var errNotOurs = invalid("not this extension's option")

// parseXmark reads the shared --set-mark/--set-xmark/--and/or/xor-mark
// options of MARK and CONNMARK into a value/mask pair.
func parseXmark(p *optParser, opt string) (uint32, uint32, error) {
	switch opt {
	case "--set-xmark":
		return p.markMask(opt)
	case "--set-mark":
		s, err := p.value(opt)
		if err != nil {
			return 0, 0, err
		}
		p.i--
		v, m, err := p.markMask(opt)
		if err != nil {
			return 0, 0, err
		}
		if !strings.Contains(s, "/") {
			return v, 0xffffffff, nil
		}
		return v, m | v, nil
	case "--and-mark":
		v, _, err := p.markMask(opt)
		return 0, ^v, err
	case "--or-mark":
		v, _, err := p.markMask(opt)
		return v, v, err
	case "--xor-mark":
		v, _, err := p.markMask(opt)
		return v, 0, err
	}
	return 0, 0, errNotOurs
}

// CONNMARK is -j CONNMARK (struct xt_connmark_tginfo2).
type CONNMARK struct {
	Mode   uint8 // 0 set, 1 save, 2 restore
	CtMark uint32
	CtMask uint32
	NfMask uint32
}

func (t *CONNMARK) Name() string       { return "CONNMARK" }
func (t *CONNMARK) Revision() uint8    { return 2 }
func (t *CONNMARK) isTarget()          {}
func (t *CONNMARK) check(Family) error { return nil }
func (t *CONNMARK) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--save-mark", "--restore-mark":
		t.Mode = 1
		if opt == "--restore-mark" {
			t.Mode = 2
		}
		if t.CtMask == 0 && t.NfMask == 0 {
			t.CtMask, t.NfMask = 0xffffffff, 0xffffffff
		}
		return true, nil
	case "--mask", "--nfmask", "--ctmask":
		v, _, err := p.markMask(opt)
		if opt != "--ctmask" {
			t.NfMask = v
		}
		if opt != "--nfmask" {
			t.CtMask = v
		}
		return true, err
	}
	v, m, err := parseXmark(p, opt)
	if err == errNotOurs {
		return false, nil
	}
	t.Mode, t.CtMark, t.CtMask, t.NfMask = 0, v, m, 0xffffffff
	return true, err
}
func (t *CONNMARK) save(b *textBuf, _ Family) {
	switch t.Mode {
	case 0:
		b.WriteString(" --set-xmark " + hexU32(t.CtMark) + "/" + hexU32(t.CtMask))
	case 1:
		b.WriteString(" --save-mark --nfmask " + hexU32(t.NfMask) + " --ctmask " + hexU32(t.CtMask))
	case 2:
		b.WriteString(" --restore-mark --nfmask " + hexU32(t.NfMask) + " --ctmask " + hexU32(t.CtMask))
	}
}
func (t *CONNMARK) info(Family) []byte {
	w := newWB(15)
	w.u32(0, t.CtMark)
	w.u32(4, t.CtMask)
	w.u32(8, t.NfMask)
	w.u8(14, t.Mode)
	return w.b
}
func (t *CONNMARK) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.CtMark, t.CtMask, t.NfMask, t.Mode = r.u32(0), r.u32(4), r.u32(8), r.u8(14)
	return r.err("CONNMARK", 15)
}

// REJECT is -j REJECT (ipt_reject_info / ip6t_reject_info).
type REJECT struct {
	With   string // iptables-save name, e.g. "icmp-port-unreachable"
	family Family
}

var rejectV4 = []string{"icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
	"icmp-port-unreachable", "icmp-echo-reply", "icmp-net-prohibited", "icmp-host-prohibited",
	"tcp-reset", "icmp-admin-prohibited"}
var rejectV6 = []string{"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-not-neighbour",
	"icmp6-addr-unreachable", "icmp6-port-unreachable", "icmp6-echo-reply", "tcp-reset",
	"icmp6-policy-fail", "icmp6-reject-route"}
var rejectAliases = map[string]string{
	"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
	"proto-unreach": "icmp-proto-unreachable", "port-unreach": "icmp-port-unreachable",
	"net-prohib": "icmp-net-prohibited", "host-prohib": "icmp-host-prohibited",
	"admin-prohib": "icmp-admin-prohibited", "no-route": "icmp6-no-route",
	"adm-prohibited": "icmp6-adm-prohibited", "addr-unreach": "icmp6-addr-unreachable",
	"port-unreach6": "icmp6-port-unreachable", "policy-fail": "icmp6-policy-fail",
	"reject-route": "icmp6-reject-route", "tcp-rst": "tcp-reset",
}

func rejectTable(f Family) []string {
	if f == IPv6 {
		return rejectV6
	}
	return rejectV4
}

func (t *REJECT) Name() string    { return "REJECT" }
func (t *REJECT) Revision() uint8 { return 0 }
func (t *REJECT) isTarget()       {}
func (t *REJECT) check(f Family) error {
	t.family = f
	if t.With == "" {
		t.With = rejectTable(f)[map[Family]int{IPv4: 3, IPv6: 4}[f]]
	}
	for _, n := range rejectTable(f) {
		if n == t.With {
			return nil
		}
	}
	return invalid("REJECT: --reject-with %q in an %s rule", t.With, f)
}
func (t *REJECT) parse(p *optParser, opt string, inv bool) (bool, error) {
	if opt != "--reject-with" {
		return false, nil
	}
	s, err := p.value(opt)
	if a, ok := rejectAliases[s]; ok {
		s = a
	}
	if p.fam == IPv6 && strings.HasPrefix(s, "icmp-") {
		s = "icmp6-" + strings.TrimPrefix(s, "icmp-")
	}
	t.With = s
	return true, err
}
func (t *REJECT) save(b *textBuf, f Family) {
	w := t.With
	if w == "" {
		t.check(f)
		w = t.With
	}
	b.WriteString(" --reject-with " + w)
}
func (t *REJECT) info(f Family) []byte {
	w := newWB(4)
	for i, n := range rejectTable(f) {
		if n == t.With {
			w.u32(0, uint32(i))
		}
	}
	return w.b
}
func (t *REJECT) setInfo(f Family, b []byte) error {
	r := &rb{b: b}
	v := r.u32(0)
	tab := rejectTable(f)
	if int(v) >= len(tab) {
		return invalid("REJECT: reject-with %d", v)
	}
	t.With, t.family = tab[v], f
	return r.err("REJECT", 4)
}

// LOG is -j LOG (struct xt_log_info).
type LOG struct {
	Level  uint8 // syslog level, default 4 (warning)
	Flags  uint8 // XT_LOG_* bits
	Prefix string
	set    bool
}

var logFlags = []struct {
	bit  uint8
	name string
}{{1, "--log-tcp-sequence"}, {2, "--log-tcp-options"}, {4, "--log-ip-options"}, {8, "--log-uid"}, {0x20, "--log-macdecode"}}

var logLevels = map[string]uint8{"emerg": 0, "alert": 1, "crit": 2, "error": 3, "err": 3,
	"warning": 4, "warn": 4, "notice": 5, "info": 6, "debug": 7}

func (t *LOG) Name() string    { return "LOG" }
func (t *LOG) Revision() uint8 { return 0 }
func (t *LOG) isTarget()       {}
func (t *LOG) check(Family) error {
	if !t.set {
		t.Level, t.set = 4, true
	}
	if len(t.Prefix) > 29 {
		return invalid("LOG: prefix longer than 29 characters")
	}
	return nil
}
func (t *LOG) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--log-prefix":
		s, err := p.value(opt)
		t.Prefix = s
		return true, err
	case "--log-level":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if v, ok := logLevels[s]; ok {
			t.Level = v
		} else if v, err := strconv.ParseUint(s, 10, 8); err == nil && v <= 7 {
			t.Level = uint8(v)
		} else {
			return true, p.bad(s, "bad log level")
		}
		t.set = true
		return true, nil
	}
	for _, f := range logFlags {
		if opt == f.name {
			t.Flags |= f.bit
			return true, nil
		}
	}
	return false, nil
}
func (t *LOG) save(b *textBuf, _ Family) {
	if t.Prefix != "" {
		b.WriteString(" --log-prefix")
		quote(b, t.Prefix)
	}
	if t.Level != 4 {
		b.WriteString(" --log-level " + strconv.Itoa(int(t.Level)))
	}
	for _, f := range logFlags {
		if t.Flags&f.bit != 0 {
			b.WriteString(" " + f.name)
		}
	}
}
func (t *LOG) info(Family) []byte {
	w := newWB(32)
	w.u8(0, t.Level)
	w.u8(1, t.Flags)
	w.str(2, 30, t.Prefix)
	return w.b
}
func (t *LOG) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	t.Level, t.Flags, t.Prefix, t.set = r.u8(0), r.u8(1), r.str(2, 30), true
	return r.err("LOG", 32)
}

// newMatch returns a zero match for a -m name, nil if unknown.
func newMatch(name string, f Family) Match {
	switch name {
	case "tcp":
		return NewTCP()
	case "udp":
		return NewUDP()
	case "icmp":
		return &ICMP{}
	case "icmp6", "icmpv6", "ipv6-icmp":
		return &ICMP{V6: true}
	case "comment":
		return &Comment{}
	case "mark":
		return &Mark{Mask: 0xffffffff}
	case "connmark":
		return &Connmark{Mask: 0xffffffff}
	case "statistic":
		return &Statistic{}
	case "addrtype":
		return &Addrtype{}
	case "multiport":
		return &Multiport{}
	case "limit":
		return &Limit{}
	case "conntrack":
		return &Conntrack{}
	case "state":
		return &Conntrack{stateAlias: true}
	case "pkttype":
		return &PktType{}
	case "length":
		return &Length{}
	case "ttl":
		return &Ttl{}
	case "hl":
		return &Ttl{V6: true}
	case "mac":
		return &Mac{}
	case "helper":
		return &Helper{}
	case "dscp":
		return &Dscp{}
	case "tos":
		return &Tos{}
	case "iprange":
		return &IPRange{}
	case "owner":
		return &Owner{}
	case "socket":
		return &Socket{}
	case "rpfilter":
		return &RPFilter{}
	case "cgroup":
		return &Cgroup{}
	case "connlimit":
		return NewConnlimit()
	case "sctp":
		return NewSCTP()
	case "physdev":
		return &Physdev{}
	case "set":
		return &Set{}
	case "string":
		return NewString()
	case "time":
		return NewTime()
	case "recent":
		return &Recent{}
	case "policy":
		return &Policy{}
	case "hashlimit":
		return NewHashlimit()
	}
	if strings.HasPrefix(name, "xt:") { // opaque extension, see Extension
		return &Extension{ExtName: strings.TrimPrefix(name, "xt:")}
	}
	return nil
}

// newTarget returns a zero target for a -j name, nil if it is not a
// known target (then it is a chain).
func newTarget(name string, f Family) Target {
	switch name {
	case "ACCEPT":
		return Accept
	case "DROP":
		return Drop
	case "RETURN":
		return Return
	case "QUEUE":
		return Queue
	case "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP":
		return &NAT{Kind: name}
	case "MARK":
		return &MARK{}
	case "CONNMARK":
		return &CONNMARK{}
	case "REJECT":
		return &REJECT{}
	case "LOG":
		return &LOG{}
	case "TCPMSS":
		return &TCPMSS{}
	case "DSCP":
		return &DSCP{}
	case "TOS":
		return &TOS{}
	case "TTL":
		return &TTL{}
	case "HL":
		return &TTL{V6: true}
	case "CHECKSUM":
		return &CHECKSUM{}
	case "CLASSIFY":
		return &CLASSIFY{}
	case "NFQUEUE":
		return &NFQUEUE{Total: 1}
	case "CT":
		return &CT{}
	case "NOTRACK":
		return &CT{Notrack: true, Alias: true}
	case "TRACE":
		return &TRACE{}
	case "NFLOG":
		return &NFLOG{}
	case "SET":
		return &SETTarget{}
	case "TPROXY":
		return &TPROXY{}
	}
	if strings.HasPrefix(name, "xt:") {
		return &Extension{ExtName: strings.TrimPrefix(name, "xt:"), IsTarget: true}
	}
	return nil
}
