package ipset

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Command is one parsed line of an `ipset save` / `ipset restore` file.
type Command struct {
	Line  int    // 1-based line number in the input
	Verb  string // create, add, del, destroy, flush, rename, swap
	Set   Set    // create: the set (Name filled for every verb)
	Name2 string // rename, swap: the second name
	// Entry of an add/del line.
	Entry Entry
}

// ParseSave parses `ipset save` output (create and add lines) into sets
// with their entries. Every add line must follow its set's create line.
func ParseSave(r io.Reader) ([]SetEntries, error) {
	cmds, err := parseLines(r, nil)
	if err != nil {
		return nil, err
	}
	var out []SetEntries
	idx := map[string]int{}
	for _, c := range cmds {
		switch c.Verb {
		case "create":
			idx[c.Set.Name] = len(out)
			out = append(out, SetEntries{Set: c.Set})
		case "add":
			i, ok := idx[c.Set.Name]
			if !ok {
				return nil, fmt.Errorf("%w: line %d: add to set %s before its create line", ErrInvalid, c.Line, c.Set.Name)
			}
			out[i].Entries = append(out[i].Entries, c.Entry)
		default:
			return nil, fmt.Errorf("%w: line %d: %q is not a save file command", ErrInvalid, c.Line, c.Verb)
		}
	}
	return out, nil
}

// parseLines tokenizes and parses every line. lookup gives the header of
// sets the input does not create (nil: such sets are an error).
func parseLines(r io.Reader, lookup func(name string) (*Set, error)) ([]Command, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	sets := map[string]*Set{}
	var out []Command
	line := 0
	for sc.Scan() {
		line++
		toks, err := tokenize(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalid, line, err)
		}
		if len(toks) == 0 || strings.HasPrefix(toks[0], "#") || toks[0] == "COMMIT" {
			continue
		}
		c, err := parseCommand(toks, sets, lookup)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		c.Line = line
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// tokenize splits on blanks; a double-quoted word (a comment) may hold
// blanks. ipset does not interpret escapes, and neither does this.
func tokenize(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t\r")
		if s == "" {
			return out, nil
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			out = append(out, s[1:end+1])
			s = s[end+2:]
			continue
		}
		end := strings.IndexAny(s, " \t\r")
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
}

func parseCommand(toks []string, sets map[string]*Set, lookup func(string) (*Set, error)) (Command, error) {
	c := Command{Verb: toks[0]}
	args := toks[1:]
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%w: %s needs %d arguments", ErrInvalid, c.Verb, n)
		}
		return nil
	}
	switch c.Verb {
	case "create", "-N", "n":
		c.Verb = "create"
		if err := need(2); err != nil {
			return c, err
		}
		s, err := parseCreate(args[0], SetType(args[1]), args[2:])
		if err != nil {
			return c, err
		}
		c.Set = s
		sets[s.Name] = &c.Set
	case "add", "del", "-A", "-D", "a", "d":
		switch c.Verb {
		case "-A", "a":
			c.Verb = "add"
		case "-D", "d":
			c.Verb = "del"
		}
		if err := need(2); err != nil {
			return c, err
		}
		s, ok := sets[args[0]]
		if !ok {
			if lookup == nil {
				return c, fmt.Errorf("%w: set %s is not created in this input", ErrInvalid, args[0])
			}
			hdr, err := lookup(args[0])
			if err != nil {
				return c, err
			}
			sets[args[0]] = hdr
			s = hdr
		}
		c.Set.Name = args[0]
		e, err := ParseEntry(s, args[1], args[2:]...)
		if err != nil {
			return c, err
		}
		c.Entry = e
	case "destroy", "flush", "-X", "-F", "x", "f":
		switch c.Verb {
		case "-X", "x":
			c.Verb = "destroy"
		case "-F", "f":
			c.Verb = "flush"
		}
		if len(args) > 0 {
			c.Set.Name = args[0]
			if c.Verb == "destroy" {
				delete(sets, args[0])
			}
		}
	case "rename", "swap", "-E", "-W", "e", "w":
		switch c.Verb {
		case "-E", "e":
			c.Verb = "rename"
		case "-W", "w":
			c.Verb = "swap"
		}
		if err := need(2); err != nil {
			return c, err
		}
		c.Set.Name, c.Name2 = args[0], args[1]
		a, b := sets[args[0]], sets[args[1]]
		delete(sets, args[0])
		delete(sets, args[1])
		if a != nil {
			sets[args[1]] = a
		}
		if c.Verb == "swap" && b != nil {
			sets[args[0]] = b
		}
	default:
		return c, fmt.Errorf("%w: unknown command %q", ErrInvalid, c.Verb)
	}
	if c.Set.Name != "" {
		if err := validateName("set name", c.Set.Name); err != nil {
			return c, err
		}
	}
	return c, nil
}

func parseUint(field, s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, invalid(field, s, "not a number of "+strconv.Itoa(bits)+" bits")
	}
	return v, nil
}

// parseCreate parses the options of a create line.
func parseCreate(name string, t SetType, opts []string) (Set, error) {
	s := Set{Name: name, Type: t}
	if err := validateName("Name", name); err != nil {
		return s, err
	}
	ti, ok := lookupType(t)
	if !ok {
		return s, invalid("Type", t, "unknown set type")
	}
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		arg := func() (string, error) {
			if i+1 >= len(opts) {
				return "", invalid(o, "", "missing value")
			}
			i++
			return opts[i], nil
		}
		num := func(field string, bits int) (uint64, error) {
			a, err := arg()
			if err != nil {
				return 0, err
			}
			return parseUint(field, a, bits)
		}
		var err error
		var v uint64
		switch o {
		case "family":
			var a string
			if a, err = arg(); err == nil {
				switch a {
				case "inet", "ipv4", "-4":
					s.Family = FamilyInet
				case "inet6", "ipv6", "-6":
					s.Family = FamilyInet6
				default:
					err = invalid("Family", a, "must be inet or inet6")
				}
			}
		case "-4":
			s.Family = FamilyInet
		case "-6":
			s.Family = FamilyInet6
		case "hashsize":
			v, err = num("HashSize", 32)
			s.HashSize = uint32(v)
		case "maxelem":
			if v, err = num("MaxElem", 32); err == nil && v == 0 {
				err = invalid("MaxElem", 0, "must be at least 1")
			}
			s.MaxElem = uint32(v)
		case "bucketsize":
			v, err = num("BucketSize", 8)
			s.BucketSize = uint8(v)
		case "initval":
			v, err = num("InitVal", 32)
			s.InitVal = uint32(v)
		case "netmask":
			v, err = num("NetMask", 8)
			s.NetMask = uint8(v)
		case "markmask":
			v, err = num("MarkMask", 32)
			s.MarkMask = uint32(v)
		case "size":
			v, err = num("Size", 32)
			s.Size = uint32(v)
		case "timeout":
			v, err = num("Timeout", 32)
			s.Timeout, s.WithTimeout = time.Duration(v)*time.Second, true
		case "bitmask":
			var a string
			if a, err = arg(); err == nil {
				if s.BitMask, err = netip.ParseAddr(a); err != nil {
					err = invalid("BitMask", a, "not an address")
				}
			}
		case "range":
			var a string
			if a, err = arg(); err == nil {
				err = s.parseRange(a)
			}
		case "counters":
			s.Counters = true
		case "comment":
			s.Comment = true
		case "skbinfo":
			s.SkbInfo = true
		case "forceadd":
			s.ForceAdd = true
		default:
			err = invalid("create option", o, "unknown for "+string(t))
		}
		if err != nil {
			return s, err
		}
	}
	if ti.anyFam && s.Family == FamilyUnspec {
		s.Family = FamilyInet
	}
	_, err := s.validate()
	return s, err
}

func (s *Set) parseRange(a string) error {
	if s.Type == BitmapPort {
		from, to, ok := strings.Cut(a, "-")
		f, err := parseUint("PortFrom", from, 16)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("range", a, "bitmap:port needs FROM-TO")
		}
		t, err := parseUint("PortTo", to, 16)
		if err != nil {
			return err
		}
		s.PortFrom, s.PortTo = uint16(f), uint16(t)
		return nil
	}
	if p, err := netip.ParsePrefix(a); err == nil {
		s.RangeFrom, s.RangeTo = p.Masked().Addr(), lastAddr(p)
		return nil
	}
	from, to, ok := strings.Cut(a, "-")
	f, err1 := netip.ParseAddr(from)
	t, err2 := netip.ParseAddr(to)
	if !ok || err1 != nil || err2 != nil {
		return invalid("range", a, "want FROM-TO or a CIDR")
	}
	s.RangeFrom, s.RangeTo = f, t
	return nil
}

// ParseEntry parses an entry as the ipset CLI writes it for set s
// ("192.0.2.1,tcp:80", "10.0.0.0/8,eth0"...), with its options ("timeout",
// "60", "comment", "text", "nomatch"...), and validates it against s.
func ParseEntry(s *Set, text string, opts ...string) (Entry, error) {
	var e Entry
	ti, ok := lookupType(s.Type)
	if !ok {
		return e, invalid("Type", s.Type, "unknown set type")
	}
	fam := ti.effectiveFamily(s.Family)
	parts := strings.Split(text, ",")
	n := len(ti.dims)
	if len(parts) != n && !(ti.macOpt && len(parts) == n-1) {
		return e, invalid("entry", text, fmt.Sprintf("%s entries have %d parts", s.Type, n))
	}
	for i, p := range parts {
		var err error
		switch ti.dims[i] {
		case dimIP, dimNet:
			e.Addr, e.AddrTo, e.Prefix, err = parseAddrDim("Addr", p)
		case dimIP2, dimNet2:
			e.Addr2, e.Addr2To, e.Prefix2, err = parseAddrDim("Addr2", p)
		case dimPort:
			err = e.parsePort(p, ti.kind == kindBitmap, fam)
		case dimMAC:
			e.MAC, err = net.ParseMAC(p)
			if err != nil || len(e.MAC) != 6 {
				err = invalid("MAC", p, "not an Ethernet address")
			}
		case dimIface:
			if name, ok := strings.CutPrefix(p, "physdev:"); ok {
				e.Iface, e.Physdev = name, true
			} else {
				e.Iface = p
			}
		case dimMark:
			var v uint64
			v, err = parseUint("Mark", p, 32)
			e.Mark = uint32(v)
		case dimSet:
			e.Set = p
		}
		if err != nil {
			return e, err
		}
	}
	if err := e.parseOptions(opts); err != nil {
		return e, err
	}
	return e, validateEntry(ti, s.Family, s, &e)
}

func parseAddrDim(field, p string) (a, to netip.Addr, pfx netip.Prefix, err error) {
	if strings.Contains(p, "/") {
		pfx, err = netip.ParsePrefix(p)
		if err != nil {
			return a, to, pfx, invalid(field, p, "not a prefix")
		}
		return a, to, pfx, nil
	}
	from, rest, isRange := strings.Cut(p, "-")
	if a, err = netip.ParseAddr(from); err != nil {
		return a, to, pfx, invalid(field, p, "not an address")
	}
	if isRange {
		if to, err = netip.ParseAddr(rest); err != nil {
			return a, to, pfx, invalid(field+"To", rest, "not an address")
		}
	}
	return a, to, pfx, nil
}

func (e *Entry) parsePort(p string, bitmap bool, fam Family) error {
	proto, port, hasProto := strings.Cut(p, ":")
	if !hasProto {
		port, proto = proto, ""
	}
	e.Proto = ProtoTCP
	if proto != "" {
		if v, ok := protoByName[proto]; ok {
			e.Proto = v
		} else if v, err := strconv.ParseUint(proto, 10, 8); err == nil && v != 0 {
			e.Proto = uint8(v)
		} else {
			return invalid("Proto", proto, "unknown protocol")
		}
	}
	if bitmap {
		if e.Proto != ProtoTCP && e.Proto != ProtoUDP {
			return invalid("Proto", proto, "bitmap:port takes tcp or udp ports")
		}
		e.Proto = 0
	}
	if e.Proto == ProtoICMP || e.Proto == ProtoICMPv6 {
		if (e.Proto == ProtoICMP) != (fam != FamilyInet6) {
			return invalid("Proto", proto, "ICMP for inet, ICMPv6 for inet6")
		}
		if v, ok := icmpParse(e.Proto, port); ok {
			e.Port = v
			return nil
		}
		t, c, ok := strings.Cut(port, "/")
		tv, err1 := strconv.ParseUint(t, 10, 8)
		cv, err2 := strconv.ParseUint(c, 10, 8)
		if !ok || err1 != nil || err2 != nil {
			return invalid("Port", port, "want an ICMP type name or TYPE/CODE")
		}
		e.Port = ICMPPort(uint8(tv), uint8(cv))
		return nil
	}
	from, to, isRange := strings.Cut(port, "-")
	v, err := parseUint("Port", from, 16)
	if err != nil {
		return err
	}
	e.Port = uint16(v)
	if isRange {
		v, err := parseUint("PortTo", to, 16)
		if err != nil {
			return err
		}
		e.PortTo = uint16(v)
	}
	return nil
}

func (e *Entry) parseOptions(opts []string) error {
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		arg := func() (string, error) {
			if i+1 >= len(opts) {
				return "", invalid(o, "", "missing value")
			}
			i++
			return opts[i], nil
		}
		var (
			a   string
			v   uint64
			err error
		)
		switch o {
		case "nomatch":
			e.NoMatch = true
		case "timeout", "packets", "bytes", "skbqueue":
			if a, err = arg(); err != nil {
				return err
			}
			bits := map[string]int{"timeout": 32, "packets": 64, "bytes": 64, "skbqueue": 16}[o]
			if v, err = parseUint(o, a, bits); err != nil {
				return err
			}
			switch o {
			case "timeout":
				e.Timeout, e.TimeoutSet = time.Duration(v)*time.Second, true
			case "packets":
				e.Packets = v
			case "bytes":
				e.Bytes = v
			case "skbqueue":
				e.SkbQueue = uint16(v)
			}
		case "comment":
			if a, err = arg(); err != nil {
				return err
			}
			e.Comment = a
		case "skbmark":
			if a, err = arg(); err != nil {
				return err
			}
			m, mask, hasMask := strings.Cut(a, "/")
			if v, err = parseUint("SkbMark", m, 32); err != nil {
				return err
			}
			e.SkbMark, e.SkbMarkMask = uint32(v), 0xffffffff
			if hasMask {
				if v, err = parseUint("SkbMarkMask", mask, 32); err != nil {
					return err
				}
				e.SkbMarkMask = uint32(v)
			}
		case "skbprio":
			if a, err = arg(); err != nil {
				return err
			}
			maj, mnr, ok := strings.Cut(a, ":")
			x, err1 := strconv.ParseUint(maj, 16, 16)
			y, err2 := strconv.ParseUint(mnr, 16, 16)
			if !ok || err1 != nil || err2 != nil {
				return invalid("SkbPrio", a, "want MAJOR:MINOR in hex")
			}
			e.SkbPrio = uint32(x)<<16 | uint32(y)
		case "before", "after":
			if a, err = arg(); err != nil {
				return err
			}
			if o == "before" {
				e.Before = a
			} else {
				e.After = a
			}
		default:
			return invalid("entry option", o, "unknown")
		}
	}
	return nil
}
