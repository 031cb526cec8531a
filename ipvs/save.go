package ipvs

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// addrPort prints an address and port as ipvsadm -n does: "192.0.2.1:80",
// "[2001:db8::1]:80".
func addrPort(a netip.Addr, p uint16) string {
	return netip.AddrPortFrom(a.Unmap(), p).String()
}

func compareServices(a, b ServiceKey) int {
	a, b = a.normalize(), b.normalize()
	// ipvsadm's order: address services before firewall marks, then
	// family, protocol, address, port.
	return cmp.Or(cmp.Compare(a.FWMark, b.FWMark), cmp.Compare(a.Family, b.Family),
		cmp.Compare(a.Protocol, b.Protocol), a.Addr.Compare(b.Addr), cmp.Compare(a.Port, b.Port))
}

func compareDests(a, b DestinationKey) int {
	return cmp.Or(a.Addr.Unmap().Compare(b.Addr.Unmap()), cmp.Compare(a.Port, b.Port))
}

// Save writes services and their destinations in the format of `ipvsadm
// -S -n`, sorted as ipvsadm sorts them, so the output compares equal to
// the tool's. Thresholds, which ipvsadm -S omits, are written as -x/-y
// (ipvsadm -R reads them).
func Save(w io.Writer, services []Service) error {
	svcs := slices.Clone(services)
	slices.SortFunc(svcs, func(a, b Service) int { return compareServices(a.ServiceKey, b.ServiceKey) })
	bw := bufio.NewWriter(w)
	for i := range svcs {
		s := &svcs[i]
		key := s.ServiceKey.String()
		fmt.Fprintf(bw, "-A %s -s %s", key, s.Scheduler)
		if s.Timeout > 0 {
			fmt.Fprintf(bw, " -p %d", s.Timeout/time.Second)
			if s.Netmask != 0 {
				if s.family() == IPv6 {
					if s.Netmask != 128 {
						fmt.Fprintf(bw, " -M %d", s.Netmask)
					}
				} else if s.Netmask != 32 {
					fmt.Fprintf(bw, " -M %s", ipv4Mask(s.Netmask))
				}
			}
		}
		if s.PE != "" {
			fmt.Fprintf(bw, " --pe %s", s.PE)
		}
		if s.Flags&FlagOnePacket != 0 {
			bw.WriteString(" -o")
		}
		if f := schedFlagNames(s.Scheduler, s.Flags); f != "" {
			fmt.Fprintf(bw, " -b %s", f)
		}
		bw.WriteString("\n")
		dests := slices.Clone(s.Destinations)
		slices.SortFunc(dests, func(a, b Destination) int { return compareDests(a.DestinationKey, b.DestinationKey) })
		for _, d := range dests {
			fmt.Fprintf(bw, "-a %s -r %s %s -w %d", key, addrPort(d.Addr, d.Port), fwdOption(d.Forward), d.Weight)
			if d.UpperThreshold != 0 {
				fmt.Fprintf(bw, " -x %d", d.UpperThreshold)
			}
			if d.LowerThreshold != 0 {
				fmt.Fprintf(bw, " -y %d", d.LowerThreshold)
			}
			if d.Forward == Tunnel && d.TunnelType != TunnelIPIP {
				fmt.Fprintf(bw, " --tun-type %s", d.TunnelType)
				if d.TunnelType == TunnelGUE {
					fmt.Fprintf(bw, " --tun-port %d", d.TunnelPort)
				}
				switch {
				case d.TunnelFlags&TunnelRemoteChecksum != 0:
					bw.WriteString(" --tun-remcsum")
				case d.TunnelFlags&TunnelChecksum != 0:
					bw.WriteString(" --tun-csum")
				default:
					bw.WriteString(" --tun-nocsum")
				}
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

func ipv4Mask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

func fwdOption(m ForwardMethod) string {
	switch m {
	case DirectRoute:
		return "-g"
	case Tunnel:
		return "-i"
	}
	return "-m" // masquerade, and what ipvsadm prints for local and bypass
}

func schedFlagNames(s Scheduler, f Flags) string {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	switch s {
	case SourceHashing:
		names[0], names[1] = "sh-fallback", "sh-port"
	case MaglevHashing:
		names[0], names[1] = "mh-fallback", "mh-port"
	}
	var out []string
	for i, bit := range []Flags{FlagSHFallback, FlagSHPort, flagSched3} {
		if f&bit != 0 {
			out = append(out, names[i])
		}
	}
	return strings.Join(out, ",")
}

// ParseRules reads `ipvsadm -S` / `ipvsadm -R` text (numeric addresses
// only: no name lookups happen in this library) into services with their
// destinations, in order of first appearance. Only -A/--add-service and
// -a/--add-server lines are accepted; ipvsadm's defaults apply (scheduler
// wlc, persistence 300 s for a bare -p, forwarding -g, weight 1). Errors
// name the line.
func ParseRules(r io.Reader) ([]Service, error) {
	var (
		out   []Service
		index = map[ServiceKey]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		p := &ruleParser{toks: strings.Fields(text)}
		kind, svc, dest, err := p.parse()
		if err == nil && kind != "-A" && kind != "-a" {
			err = fmt.Errorf("unsupported command %q (want -A or -a; Restore applies the others)", p.toks[0])
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d %q: %v", ErrInvalid, line, text, err)
		}
		k := svc.ServiceKey.normalize()
		switch kind {
		case "-A":
			if _, dup := index[k]; dup {
				return nil, fmt.Errorf("%w: line %d: service %s defined twice", ErrInvalid, line, k)
			}
			svc.ServiceKey = k
			if err := svc.validate(); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			index[k] = len(out)
			out = append(out, svc)
		case "-a":
			i, ok := index[k]
			if !ok {
				return nil, fmt.Errorf("%w: line %d: server for undefined service %s", ErrInvalid, line, k)
			}
			if err := dest.validate(); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			out[i].Destinations = append(out[i].Destinations, dest)
		}
	}
	return out, sc.Err()
}

type ruleParser struct {
	toks []string
	i    int
}

func (p *ruleParser) next() (string, bool) {
	if p.i >= len(p.toks) {
		return "", false
	}
	p.i++
	return p.toks[p.i-1], true
}

func (p *ruleParser) arg(opt string) (string, error) {
	v, ok := p.next()
	if !ok {
		return "", fmt.Errorf("%s needs a value", opt)
	}
	return v, nil
}

func (p *ruleParser) parse() (kind string, svc Service, dest Destination, err error) {
	first, _ := p.next()
	switch first {
	case "-A", "--add-service", "-E", "--edit-service":
		// ipvsadm 1.31 edits with the line's settings and its defaults for
		// the rest (measured: -E without -p drops persistence), not only
		// the options the line names.
		kind = "-A"
		if first == "-E" || first == "--edit-service" {
			kind = "-E"
		}
		svc.Scheduler = WeightedLeastConnection
	case "-D", "--delete-service":
		kind = "-D"
	case "-a", "--add-server", "-e", "--edit-server":
		kind = "-a"
		if first == "-e" || first == "--edit-server" {
			kind = "-e"
		}
		// ipvsadm's defaults, also for -e: an edit replaces the server's
		// settings with the line's, not only the options it names.
		dest.Forward = DirectRoute
		dest.Weight = 1
	case "-d", "--delete-server":
		kind = "-d"
	case "-C", "--clear":
		if len(p.toks) > 1 {
			return "", svc, dest, fmt.Errorf("-C takes no options")
		}
		return "-C", svc, dest, nil
	case "-Z", "--zero":
		kind = "-Z"
		if len(p.toks) == 1 {
			return kind, svc, dest, nil
		}
	default:
		return "", svc, dest, fmt.Errorf("unsupported command %q", first)
	}
	var (
		six     bool
		mask    string
		haveFwd bool
		tunOpt  bool
	)
	for {
		tok, ok := p.next()
		if !ok {
			break
		}
		switch tok {
		case "-t", "--tcp-service", "-u", "--udp-service", "--sctp-service":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			ap, err := netip.ParseAddrPort(v)
			if err != nil {
				return "", svc, dest, fmt.Errorf("%s %q: %v", tok, v, err)
			}
			svc.Addr, svc.Port = ap.Addr().Unmap(), ap.Port()
			svc.Protocol = map[string]Protocol{"-t": TCP, "--tcp-service": TCP, "-u": UDP, "--udp-service": UDP, "--sctp-service": SCTP}[tok]
		case "-f", "--fwmark-service":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return "", svc, dest, fmt.Errorf("-f %q: %v", v, err)
			}
			svc.FWMark = uint32(n)
		case "-6", "--ipv6":
			six = true
		case "-s", "--scheduler":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			svc.Scheduler = Scheduler(v)
		case "-p", "--persistent":
			svc.Timeout = 300 * time.Second
			if p.i < len(p.toks) && !strings.HasPrefix(p.toks[p.i], "-") {
				v, _ := p.next()
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return "", svc, dest, fmt.Errorf("-p %q: %v", v, err)
				}
				svc.Timeout = time.Duration(n) * time.Second
			}
		case "-M", "--netmask":
			if mask, err = p.arg(tok); err != nil {
				return "", svc, dest, err
			}
		case "--pe":
			if svc.PE, err = p.arg(tok); err != nil {
				return "", svc, dest, err
			}
		case "-o", "--ops":
			svc.Flags |= FlagOnePacket
		case "-b", "--sched-flags":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			for _, f := range strings.Split(v, ",") {
				switch f {
				case "sh-fallback", "mh-fallback", "flag-1":
					svc.Flags |= FlagSHFallback
				case "sh-port", "mh-port", "flag-2":
					svc.Flags |= FlagSHPort
				case "flag-3":
					svc.Flags |= flagSched3
				default:
					return "", svc, dest, fmt.Errorf("unknown scheduler flag %q", f)
				}
			}
		case "-r", "--real-server":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			if ap, err := netip.ParseAddrPort(v); err == nil {
				dest.Addr, dest.Port = ap.Addr().Unmap(), ap.Port()
			} else if a, err2 := netip.ParseAddr(strings.Trim(v, "[]")); err2 == nil {
				dest.Addr = a.Unmap() // no port: the service's, filled in below
			} else {
				return "", svc, dest, fmt.Errorf("-r %q: %v", v, err)
			}
		case "-m", "--masquerading":
			dest.Forward, haveFwd = Masquerade, true
		case "-g", "--gatewaying":
			dest.Forward, haveFwd = DirectRoute, true
		case "-i", "--ipip":
			dest.Forward, haveFwd = Tunnel, true
		case "-w", "--weight", "-x", "--u-threshold", "-y", "--l-threshold", "--tun-port":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return "", svc, dest, fmt.Errorf("%s %q: %v", tok, v, err)
			}
			switch tok {
			case "-w", "--weight":
				if n > 65535 {
					return "", svc, dest, fmt.Errorf("destination weight %d out of range 0-65535", n)
				}
				dest.Weight = int(n)
			case "-x", "--u-threshold":
				dest.UpperThreshold = uint32(n)
			case "-y", "--l-threshold":
				dest.LowerThreshold = uint32(n)
			default:
				if n > 65535 {
					return "", svc, dest, fmt.Errorf("--tun-port %d out of range", n)
				}
				dest.TunnelPort, tunOpt = uint16(n), true
			}
		case "--tun-type":
			v, err := p.arg(tok)
			if err != nil {
				return "", svc, dest, err
			}
			t, ok := map[string]TunnelType{"ipip": TunnelIPIP, "gue": TunnelGUE, "gre": TunnelGRE}[v]
			if !ok {
				return "", svc, dest, fmt.Errorf("unknown tunnel type %q", v)
			}
			dest.TunnelType, tunOpt = t, true
		case "--tun-nocsum":
			dest.TunnelFlags, tunOpt = TunnelNoChecksum, true
		case "--tun-csum":
			dest.TunnelFlags, tunOpt = TunnelChecksum, true
		case "--tun-remcsum":
			dest.TunnelFlags, tunOpt = TunnelRemoteChecksum, true
		default:
			return "", svc, dest, fmt.Errorf("unknown option %q", tok)
		}
	}
	_ = haveFwd
	if tunOpt && dest.Forward != Tunnel {
		return "", svc, dest, fmt.Errorf("tunnel options need -i")
	}
	if svc.FWMark != 0 {
		svc.Family = IPv4
		if six {
			svc.Family = IPv6
		}
	} else if !svc.Addr.IsValid() {
		return "", svc, dest, fmt.Errorf("no service given (-t, -u, --sctp-service or -f)")
	}
	if kind == "-a" || kind == "-e" || kind == "-d" {
		if !dest.Addr.IsValid() {
			return "", svc, dest, fmt.Errorf("%s needs -r", first)
		}
		if dest.Port == 0 && svc.FWMark == 0 {
			dest.Port = svc.Port
		}
		// ipvsadm forces the service's port on direct-routing and tunnel
		// servers of an address service, whatever -r says.
		if svc.FWMark == 0 && (dest.Forward == DirectRoute || dest.Forward == Tunnel) {
			dest.Port = svc.Port
		}
	}
	if mask != "" {
		if svc.family() == IPv6 {
			n, err := strconv.Atoi(mask)
			if err != nil {
				return "", svc, dest, fmt.Errorf("-M %q: %v", mask, err)
			}
			svc.Netmask = n
		} else {
			a, err := netip.ParseAddr(mask)
			if err != nil || !a.Is4() {
				return "", svc, dest, fmt.Errorf("-M %q: not an IPv4 netmask", mask)
			}
			b := a.As4()
			m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			n := 0
			for n < 32 && m&(1<<(31-n)) != 0 {
				n++
			}
			if m<<n != 0 {
				return "", svc, dest, fmt.Errorf("-M %q: netmask is not contiguous", mask)
			}
			svc.Netmask = n
		}
		if svc.Netmask == 32 && svc.family() == IPv4 || svc.Netmask == 128 {
			svc.Netmask = 0
		}
	}
	return kind, svc, dest, nil
}
