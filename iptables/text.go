package iptables

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// splitArgs splits a rule line the way iptables-restore does: on blanks,
// with double quotes grouping and a backslash escaping the next character
// inside quotes (and a quote outside them).
func splitArgs(s string) ([]string, error) {
	out := make([]string, 0, 24)
	var buf []byte
	for i := 0; i < len(s); {
		if isBlank(s[i]) {
			i++
			continue
		}
		// Most tokens have no quote or backslash: take them as substrings
		// of the line (Restore splits 60 000 lines).
		start := i
		simple := true
		for ; i < len(s) && !isBlank(s[i]); i++ {
			if s[i] == '"' || s[i] == '\\' {
				simple = false
				break
			}
		}
		if simple {
			out = append(out, s[start:i])
			continue
		}
		buf = buf[:0]
		quoted := false
	tok:
		for i = start; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (quoted || s[i+1] == '"'):
				i++
				buf = append(buf, s[i])
			case c == '"':
				quoted = !quoted
			case !quoted && isBlank(c):
				break tok
			default:
				buf = append(buf, c)
			}
		}
		if quoted {
			return nil, errors.New("unterminated quoted string")
		}
		out = append(out, string(buf))
	}
	return out, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// quote writes a string argument the way libxtables' xtables_save_string
// does: bare when only [A-Za-z0-9_-], otherwise in double quotes with ",
// \ and ' escaped.
func quote(b *textBuf, s string) {
	b.WriteByte(' ')
	bare := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			bare = false
			break
		}
	}
	if bare {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// optParser walks the arguments of one rule.
type optParser struct {
	args []string
	i    int
	fam  Family
	rule *Rule
}

func (p *optParser) bad(tok, format string, a ...any) error {
	return &ParseError{Token: tok, Err: fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))}
}

// value returns the argument of opt.
func (p *optParser) value(opt string) (string, error) {
	if p.i >= len(p.args) {
		return "", p.bad(opt, "option needs an argument")
	}
	v := p.args[p.i]
	p.i++
	return v, nil
}

func (p *optParser) uint(opt string, min, max uint64) (uint64, error) {
	s, err := p.value(opt)
	if err != nil {
		return 0, err
	}
	v, err := parseUint(s)
	if err != nil || v < min || v > max {
		return 0, p.bad(s, "%s wants a number in %d..%d", opt, min, max)
	}
	return v, nil
}

// parseUint accepts decimal, 0x hex and 0 octal, like strtoul(s, 0).
func parseUint(s string) (uint64, error) { return strconv.ParseUint(s, 0, 64) }

// ParseRule parses a rule specification as given to `iptables -A CHAIN` or
// printed by iptables-save, e.g. "-p tcp -m tcp --dport 22 -j ACCEPT". A
// leading "-A CHAIN" (or "-I CHAIN") sets Chain and "-t TABLE" sets Table.
// Errors wrap ErrInvalid and are *ParseError naming the token.
func ParseRule(f Family, spec string) (*Rule, error) {
	args, err := splitArgs(spec)
	if err != nil {
		return nil, &ParseError{Token: spec, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	return parseArgs(f, args)
}

func parseArgs(f Family, args []string) (*Rule, error) {
	if !f.valid() {
		return nil, invalid("family %d", f)
	}
	r := &Rule{Family: f}
	p := &optParser{args: args, fam: f, rule: r}
	protoSeen := false
	for p.i < len(p.args) {
		tok := p.args[p.i]
		p.i++
		inv := false
		if tok == "!" {
			inv = true
			if p.i >= len(p.args) {
				return nil, p.bad(tok, "nothing to invert")
			}
			tok = p.args[p.i]
			p.i++
		}
		switch tok {
		case "-A", "--append", "-I", "--insert":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			if err := checkChainName(v); err != nil {
				return nil, p.bad(v, "%v", err)
			}
			r.Chain = v
			continue
		case "-t", "--table":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			r.Table = v
			continue
		case "-s", "--source", "--src", "-d", "--destination", "--dst":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			a, err := parseAddr(f, v)
			if err != nil {
				return nil, p.bad(v, "%v", err)
			}
			a.Invert = inv
			if tok[1] == 's' || tok == "--source" || tok == "--src" {
				r.Src = a
			} else {
				r.Dst = a
			}
			continue
		case "-i", "--in-interface", "-o", "--out-interface":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			if len(v) > 15 {
				return nil, p.bad(v, "interface name longer than 15 characters")
			}
			if tok == "-i" || tok == "--in-interface" {
				r.In = Iface{Name: v, Invert: inv}
			} else {
				r.Out = Iface{Name: v, Invert: inv}
			}
			continue
		case "-p", "--protocol":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			n, ok := protoNumber(v)
			if !ok {
				return nil, p.bad(v, "unknown protocol")
			}
			r.Protocol, r.ProtoInvert, protoSeen = n, inv, true
			if n == 0 && inv {
				return nil, p.bad(v, "rule would never match protocol")
			}
			continue
		case "-f", "--fragment":
			if f != IPv4 {
				return nil, p.bad(tok, "-f is IPv4 only")
			}
			r.Fragment = 1
			if inv {
				r.Fragment = -1
			}
			continue
		case "-c", "--set-counters":
			pk, err := p.uint(tok, 0, 1<<64-1)
			if err != nil {
				return nil, err
			}
			by, err := p.uint(tok, 0, 1<<64-1)
			if err != nil {
				return nil, err
			}
			r.Counters = Counters{Packets: pk, Bytes: by}
			continue
		case "-m", "--match":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			m := newMatch(v, f)
			if m == nil {
				return nil, p.bad(v, "unknown match")
			}
			r.Matches = append(r.Matches, m)
			continue
		case "-j", "--jump", "-g", "--goto":
			v, err := p.value(tok)
			if err != nil {
				return nil, err
			}
			if r.Target != nil {
				return nil, p.bad(v, "more than one target")
			}
			if tok == "-g" || tok == "--goto" {
				if err := checkChainName(v); err != nil {
					return nil, p.bad(v, "%v", err)
				}
				r.Target = &Jump{Chain: v, Goto: true}
				continue
			}
			t := newTarget(v, f)
			if t == nil && knownTargets[v] {
				return nil, p.bad(v, "target not supported by nfkit yet")
			}
			if t == nil {
				if err := checkChainName(v); err != nil {
					return nil, p.bad(v, "%v", err)
				}
				t = &Jump{Chain: v}
			}
			r.Target = t
			continue
		}
		if !strings.HasPrefix(tok, "-") {
			return nil, p.bad(tok, "unexpected argument")
		}
		handled, err := p.dispatch(tok, inv)
		if err != nil {
			return nil, err
		}
		if !handled && protoSeen && !r.ProtoInvert {
			// iptables loads the protocol's match implicitly on its first
			// unknown option (-p tcp --dport 22).
			if m := newMatch(protoMatchName(f, r.Protocol), f); m != nil && !r.hasMatch(m.Name()) {
				r.Matches = append(r.Matches, m)
				handled, err = p.dispatch(tok, inv)
				if err != nil {
					return nil, err
				}
			}
		}
		if !handled {
			return nil, p.bad(tok, "unknown option")
		}
	}
	for _, m := range r.Matches {
		if err := m.check(f); err != nil {
			return nil, &ParseError{Token: "-m " + m.Name(), Err: err}
		}
	}
	if r.Target != nil {
		if err := r.Target.check(f); err != nil {
			return nil, &ParseError{Token: "-j " + r.Target.Name(), Err: err}
		}
	}
	return r, nil
}

func (p *optParser) dispatch(tok string, inv bool) (bool, error) {
	start := p.i
	if t := p.rule.Target; t != nil {
		ok, err := t.parse(p, tok, inv)
		if ok || err != nil {
			return ok, err
		}
	}
	ms := p.rule.Matches
	for k, m := range ms {
		if laterSameMatch(ms, k) {
			// libxtables marks a match complete when the same match is
			// loaded again: -m tos --tos 1 -m tos --tos 2 gives each its
			// own --tos, as Spec prints them.
			continue
		}
		p.i = start
		ok, err := m.parse(p, tok, inv)
		if ok || err != nil {
			return ok, err
		}
	}
	p.i = start
	return false, nil
}

// laterSameMatch reports whether a match after ms[k] has its name.
func laterSameMatch(ms []Match, k int) bool {
	name := ms[k].Name()
	for _, m := range ms[k+1:] {
		if m.Name() == name {
			return true
		}
	}
	return false
}

func (r *Rule) hasMatch(name string) bool {
	for _, m := range r.Matches {
		if matchSaveName(m) == name {
			return true
		}
	}
	return false
}

func protoMatchName(f Family, proto uint8) string {
	switch proto {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	case 1:
		if f == IPv4 {
			return "icmp"
		}
	case 58:
		if f == IPv6 {
			return "icmp6"
		}
	}
	return ""
}

// checkChainName enforces iptables' limits on a chain name, as measured
// with iptables-nft 1.8.9 -N: not empty, at most 28 bytes, not starting
// with '-' or '!', and no C isspace byte (space, \t, \n, \v, \f, \r:
// "Invalid chain name"). Every other byte is accepted, quotes and
// backslashes included; chainText prints those so they parse back.
func checkChainName(s string) error {
	if s == "" {
		return errors.New("empty chain name")
	}
	if len(s) > 28 {
		return fmt.Errorf("chain name %q longer than 28 characters", s)
	}
	if s[0] == '-' || s[0] == '!' || strings.ContainsAny(s, " \t\n\v\f\r") {
		return fmt.Errorf("invalid chain name %q", s)
	}
	return nil
}

// chainText writes a chain or interface name as a rule argument.
// iptables-nft-save prints names bare, which iptables-restore cannot read
// back when the name holds a double quote (`-j a"b` opens a quote) or a
// blank (interface names may: iptables only warns), or is empty; such
// names are written quoted with \" and \\ escaped, which
// iptables-restore and splitArgs both read back as the name. Other names
// (a backslash alone is literal outside quotes in both) are printed bare
// as iptables does.
func chainText(b *textBuf, s string) {
	if s != "" && !strings.ContainsAny(s, "\" \t\n\r") {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// parseAddr parses ADDR, ADDR/LEN or ADDR/MASK of family f.
func parseAddr(f Family, s string) (Addr, error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return Addr{}, fmt.Errorf("bad address %q (host names are not resolved)", addr)
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	if (f == IPv4) != a.Is4() {
		return Addr{}, fmt.Errorf("address %q is not %s", addr, map[Family]string{IPv4: "IPv4", IPv6: "IPv6"}[f])
	}
	bits := a.BitLen()
	m := maskFromBits(bits, bits)
	if hasMask {
		if n, err := strconv.Atoi(mask); err == nil {
			if n < 0 || n > bits {
				return Addr{}, fmt.Errorf("bad prefix length %q", mask)
			}
			m = maskFromBits(bits, n)
		} else {
			mm, err := netip.ParseAddr(mask)
			if err != nil || mm.BitLen() != bits {
				return Addr{}, fmt.Errorf("bad mask %q", mask)
			}
			m = mm
		}
	}
	return Addr{Addr: andAddr(a, m), Mask: m}, nil
}

func andAddr(a, m netip.Addr) netip.Addr {
	x, y := a.AsSlice(), m.AsSlice()
	for i := range x {
		x[i] &= y[i]
	}
	r, _ := netip.AddrFromSlice(x)
	return r
}

func (a Addr) String() string {
	var b textBuf
	a.appendTo(&b)
	return b.String()
}

// appendTo writes a as String returns it.
func (a Addr) appendTo(b *textBuf) {
	b.addr(a.Addr)
	b.WriteByte('/')
	if n := maskBits(a.Mask); n >= 0 {
		b.int(int64(n))
	} else {
		b.addr(a.Mask)
	}
}

// String prints the rule as iptables-save prints it, starting with
// "-A CHAIN" when Chain is set.
//
// A foreign rule (Foreign set) prints as ForeignRule.String, a comment
// that does not parse as a rule.
func (r *Rule) String() string {
	if r.Foreign != nil {
		return r.Foreign.String()
	}
	var b textBuf
	if r.Chain != "" {
		b.WriteString("-A ")
		chainText(&b, r.Chain)
	}
	r.appendSpec(&b, familyOf(r))
	s := b.String()
	return strings.TrimPrefix(s, " ")
}

// familyOf guesses the family from the addresses for printing; Spec takes
// it explicitly.
func familyOf(r *Rule) Family {
	if r.Family.valid() {
		return r.Family
	}
	if r.Src.Addr.Is6() || r.Dst.Addr.Is6() {
		return IPv6
	}
	return IPv4
}

// Spec prints the rule without "-A CHAIN", for family f.
func (r *Rule) Spec(f Family) string {
	if r.Foreign != nil {
		return r.Foreign.String()
	}
	var b textBuf
	r.appendSpec(&b, f)
	return strings.TrimPrefix(b.String(), " ")
}

func (r *Rule) appendSpec(b *textBuf, f Family) {
	if !r.Src.IsZero() {
		b.not(r.Src.Invert)
		b.WriteString(" -s ")
		r.Src.appendTo(b)
	}
	if !r.Dst.IsZero() {
		b.not(r.Dst.Invert)
		b.WriteString(" -d ")
		r.Dst.appendTo(b)
	}
	if r.In.Name != "" && r.In.Name != "+" || r.In.Invert {
		b.not(r.In.Invert)
		b.WriteString(" -i ")
		chainText(b, r.In.Name)
	}
	if r.Out.Name != "" && r.Out.Name != "+" || r.Out.Invert {
		b.not(r.Out.Invert)
		b.WriteString(" -o ")
		chainText(b, r.Out.Name)
	}
	if r.Protocol != 0 || r.ProtoInvert {
		b.not(r.ProtoInvert)
		b.WriteString(" -p ")
		b.WriteString(protoName(r.Protocol))
	}
	switch r.Fragment {
	case 1:
		b.WriteString(" -f")
	case -1:
		b.WriteString(" ! -f")
	}
	for _, m := range r.Matches {
		b.WriteString(" -m ")
		b.WriteString(matchSaveName(m))
		m.save(b, f)
	}
	switch t := r.Target.(type) {
	case nil:
	case *Jump:
		if t.Goto {
			b.WriteString(" -g ")
		} else {
			b.WriteString(" -j ")
		}
		chainText(b, t.Chain)
	default:
		b.WriteString(" -j ")
		b.WriteString(targetSaveName(t))
		t.save(b, f)
	}
}

func matchSaveName(m Match) string {
	if s, ok := m.(interface{ saveName() string }); ok {
		return s.saveName()
	}
	return m.Name()
}

func targetSaveName(t Target) string {
	if s, ok := t.(interface{ saveName() string }); ok {
		return s.saveName()
	}
	return t.Name()
}

// knownTargets are xt targets iptables knows that nfkit has no type for
// yet: they must not be taken for chain names.
var knownTargets = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields("AUDIT CHECKSUM CLASSIFY CLUSTERIP CONNSECMARK CT DNPT DSCP ECN HL HMARK " +
		"IDLETIMER LED MIRROR NFLOG NFQUEUE NOTRACK RATEEST SAME SECMARK SET SNPT SYNPROXY TCPMSS " +
		"TCPOPTSTRIP TEE TOS TPROXY TRACE TTL ULOG") {
		m[n] = true
	}
	return m
}()
