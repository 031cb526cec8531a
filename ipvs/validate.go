package ipvs

import (
	"time"
)

func (k ServiceKey) validate() error {
	f := k.Family
	if f != 0 && f != IPv4 && f != IPv6 {
		return invalid("service family", f, "want IPv4 or IPv6")
	}
	if k.FWMark != 0 {
		if k.Addr.IsValid() || k.Port != 0 || k.Protocol != 0 {
			return invalid("service fwmark", k.FWMark, "a firewall-mark service has no address, port or protocol")
		}
		return nil
	}
	if !k.Addr.IsValid() {
		return invalid("service fwmark", 0, "a service needs an address (with protocol and port) or a non-zero firewall mark")
	}
	if k.Addr.Zone() != "" {
		return invalid("service address", k.Addr, "zones are not supported")
	}
	af := IPv4
	if k.Addr.Is6() && !k.Addr.Is4In6() {
		af = IPv6
	}
	if f != 0 && f != af {
		return invalid("service address", k.Addr, "does not match family "+f.String())
	}
	switch k.Protocol {
	case TCP, UDP, SCTP:
	default:
		return invalid("service protocol", k.Protocol, "want TCP, UDP or SCTP")
	}
	return nil
}

func (s *Service) validate() error {
	if err := s.ServiceKey.validate(); err != nil {
		return err
	}
	if s.FWMark == 0 && s.Port == 0 && s.Timeout == 0 {
		return invalid("service port", 0, "port 0 is only valid on a persistent (all ports) service; set a port or a Timeout")
	}
	if !schedulers[s.Scheduler] {
		return invalid("service scheduler", "\""+string(s.Scheduler)+"\"", "unknown; want one of rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh")
	}
	if s.Timeout < 0 || s.Timeout%time.Second != 0 || s.Timeout/time.Second > 1<<32-1 {
		return invalid("service timeout", s.Timeout, "want whole seconds, at most 2^32-1")
	}
	max := 32
	if s.family() == IPv6 {
		max = 128
	}
	if s.Netmask < 0 || s.Netmask > max {
		return invalid("service netmask", s.Netmask, "out of range for "+s.family().String())
	}
	if s.Flags&^(FlagOnePacket|FlagSHFallback|FlagSHPort|flagSched3) != 0 {
		return invalid("service flags", s.Flags, "unknown flag bits")
	}
	if len(s.PE) > 15 { // IP_VS_PENAME_MAXLEN
		return invalid("service persistence engine", s.PE, "longer than 15 bytes")
	}
	for i := range s.Destinations {
		if err := s.Destinations[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

func (d *Destination) validate() error {
	if !d.Addr.IsValid() {
		return invalid("destination address", d.Addr, "missing")
	}
	if d.Addr.Zone() != "" {
		return invalid("destination address", d.Addr, "zones are not supported")
	}
	if d.Weight < 0 || d.Weight > 65535 {
		return invalid("destination weight", d.Weight, "out of range 0-65535")
	}
	switch d.Forward {
	case Masquerade, Local, Tunnel, DirectRoute, Bypass:
	default:
		return invalid("destination forward method", d.Forward, "unknown")
	}
	if d.UpperThreshold != 0 && d.LowerThreshold > d.UpperThreshold {
		return invalid("destination lower threshold", d.LowerThreshold, "above the upper threshold")
	}
	if d.Forward != Tunnel && (d.TunnelType != 0 || d.TunnelPort != 0 || d.TunnelFlags != 0) {
		return invalid("destination tunnel type", d.TunnelType, "tunnel options need Forward: Tunnel")
	}
	switch d.TunnelType {
	case TunnelIPIP, TunnelGRE:
		if d.TunnelPort != 0 {
			return invalid("destination tunnel port", d.TunnelPort, "only GUE tunnels have a port")
		}
	case TunnelGUE:
		if d.TunnelPort == 0 {
			return invalid("destination tunnel port", 0, "a GUE tunnel needs a port")
		}
	default:
		return invalid("destination tunnel type", d.TunnelType, "want ipip, gue or gre")
	}
	if d.TunnelFlags&^(TunnelChecksum|TunnelRemoteChecksum) != 0 {
		return invalid("destination tunnel flags", d.TunnelFlags, "unknown flag bits")
	}
	return nil
}

func (d *Daemon) validate() error {
	if d.State != Master && d.State != Backup {
		return invalid("daemon state", d.State, "want Master or Backup")
	}
	if d.Interface == "" || len(d.Interface) >= 16 {
		return invalid("daemon interface", "\""+d.Interface+"\"", "want an interface name of 1-15 bytes")
	}
	if d.SyncID > 255 {
		return invalid("daemon syncid", d.SyncID, "out of range 0-255")
	}
	if d.Group.IsValid() && !d.Group.IsMulticast() {
		return invalid("daemon multicast group", d.Group, "not a multicast address")
	}
	return nil
}
