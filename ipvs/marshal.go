package ipvs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/nfkit/nfkit/internal/attr"
)

// IPVS integers are in host byte order (the mdlayher default); ports and
// addresses are in network order and written as bytes.

func addr16(a netip.Addr) []byte {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
	} else if a.IsValid() {
		b = a.As16()
	}
	return b[:]
}

func decodeAddr(b []byte, f Family) (netip.Addr, error) {
	switch {
	case f == IPv4 && len(b) >= 4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case f == IPv6 && len(b) >= 16:
		return netip.AddrFrom16([16]byte(b[:16])), nil
	case len(b) == 4:
		return netip.AddrFrom4([4]byte(b)), nil
	case len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), nil
	}
	return netip.Addr{}, fmt.Errorf("ipvs: address attribute of %d bytes for %v", len(b), f)
}

func port(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// netmaskBytes encodes the persistence netmask: the mask itself (network
// order) for IPv4, the prefix length (host order) for IPv6, as ipvsadm does.
func netmaskValue(f Family, bitsLen int) uint32 {
	if f == IPv6 {
		if bitsLen == 0 {
			return 128
		}
		return uint32(bitsLen)
	}
	if bitsLen == 0 {
		bitsLen = 32
	}
	mask := ^uint32(0) << (32 - bitsLen)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], mask)
	return binary.NativeEndian.Uint32(b[:])
}

func netmaskBits(f Family, v uint32) int {
	if f == IPv6 {
		if v >= 128 {
			return 0
		}
		return int(v)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	n := bits.LeadingZeros32(^binary.BigEndian.Uint32(b[:]))
	if n == 32 {
		return 0
	}
	return n
}

// encodeKey writes the identifying attributes of a service.
func (k ServiceKey) encode(ae *netlink.AttributeEncoder) {
	k = k.normalize()
	ae.Uint16(svcAF, uint16(k.Family))
	if k.FWMark != 0 {
		ae.Uint32(svcFWMark, k.FWMark)
		return
	}
	ae.Uint16(svcProtocol, uint16(k.Protocol))
	if k.Addr.IsValid() {
		ae.Bytes(svcAddr, addr16(k.Addr))
	}
	ae.Bytes(svcPort, attr.Port(k.Port))
}

// encode writes a full service (the kernel requires scheduler, flags,
// timeout and netmask on NEW_SERVICE and SET_SERVICE). withState also
// writes the statistics, for round-trip tests only.
func (s *Service) encode(ae *netlink.AttributeEncoder, withState bool) {
	s.ServiceKey.encode(ae)
	ae.String(svcSched, string(s.Scheduler))
	if s.PE != "" {
		ae.String(svcPEName, s.PE)
	}
	flags := uint32(s.Flags)
	if s.Timeout > 0 {
		flags |= svcFlagPersistent
	}
	if withState && s.State != nil && s.State.Hashed {
		flags |= svcFlagHashed
	}
	var fb [8]byte
	binary.NativeEndian.PutUint32(fb[0:], flags)
	binary.NativeEndian.PutUint32(fb[4:], ^uint32(0)) // mask: set every flag as given
	ae.Bytes(svcFlags, fb[:])
	ae.Uint32(svcTimeout, uint32(s.Timeout/time.Second))
	ae.Uint32(svcNetmask, netmaskValue(s.family(), s.Netmask))
	if withState && s.State != nil {
		ae.Nested(svcStats, func(nae *netlink.AttributeEncoder) error {
			encodeStats(nae, &s.State.Stats32, false)
			return nil
		})
		if s.State.Has64 {
			ae.Nested(svcStats64, func(nae *netlink.AttributeEncoder) error {
				encodeStats(nae, &s.State.Stats, true)
				return nil
			})
		}
	}
	for _, u := range s.Unknown {
		ae.Bytes(u.Type, u.Data)
	}
}

func decodeService(b []byte) (*Service, error) {
	w := newWalker(b)
	s := &Service{}
	var (
		addr          []byte
		flags         uint32
		haveFlags     bool
		netmask       uint32
		haveNet       bool
		timeout       uint32
		stats, stat64 []byte // alias b; decoded below, never kept
	)
	for w.Next() {
		switch w.Kind() {
		case svcAF:
			s.Family = Family(w.U16Host())
		case svcProtocol:
			s.Protocol = Protocol(w.U16Host())
		case svcAddr:
			addr = w.Data()
		case svcPort:
			s.Port = port(w.Data())
		case svcFWMark:
			s.FWMark = w.U32Host()
		case svcSched:
			s.Scheduler = Scheduler(w.String())
		case svcFlags:
			if fb := w.Data(); len(fb) >= 4 {
				flags, haveFlags = binary.NativeEndian.Uint32(fb), true
			}
		case svcTimeout:
			timeout = w.U32Host()
		case svcNetmask:
			netmask, haveNet = w.U32Host(), true
		case svcPEName:
			s.PE = w.String()
		case svcStats:
			stats = w.Data()
		case svcStats64:
			stat64 = w.Data()
		default:
			s.Unknown = append(s.Unknown, w.raw())
		}
	}
	if err := w.err(); err != nil {
		return nil, err
	}
	if addr != nil && s.FWMark == 0 {
		a, err := decodeAddr(addr, s.Family)
		if err != nil {
			return nil, err
		}
		s.Addr = a
	}
	if haveFlags {
		s.Flags = Flags(flags &^ (svcFlagPersistent | svcFlagHashed))
		if flags&svcFlagPersistent != 0 {
			s.Timeout = time.Duration(timeout) * time.Second
		}
	}
	if haveNet {
		s.Netmask = netmaskBits(s.Family, netmask)
	}
	if stats != nil || stat64 != nil || flags&svcFlagHashed != 0 {
		st := &ServiceState{Hashed: flags&svcFlagHashed != 0}
		if err := decodeStatsPair(stats, stat64, &st.Stats32, &st.Stats, &st.Has64); err != nil {
			return nil, err
		}
		s.State = st
	}
	return s, nil
}

func decodeStatsPair(s32, s64 []byte, out32, out *Stats, has64 *bool) error {
	if s32 != nil {
		if err := decodeStats(s32, out32); err != nil {
			return err
		}
		*out = *out32
	}
	if s64 != nil {
		*has64 = true
		if err := decodeStats(s64, out); err != nil {
			return err
		}
	}
	return nil
}

// decodeStats reads either statistics nest: the 32-bit one has u32
// counters and u64 bytes, the 64-bit one u64 everywhere; the attribute
// length tells which.
func decodeStats(b []byte, st *Stats) error {
	w := newWalker(b)
	for w.Next() {
		var v uint64
		switch d := w.Data(); len(d) {
		case 4:
			v = uint64(binary.NativeEndian.Uint32(d))
		case 8:
			v = binary.NativeEndian.Uint64(d)
		default:
			continue
		}
		switch w.Kind() {
		case statConns:
			st.Conns = v
		case statInPkts:
			st.InPackets = v
		case statOutPkts:
			st.OutPackets = v
		case statInBytes:
			st.InBytes = v
		case statOutBytes:
			st.OutBytes = v
		case statCPS:
			st.CPS = v
		case statInPPS:
			st.InPPS = v
		case statOutPPS:
			st.OutPPS = v
		case statInBPS:
			st.InBPS = v
		case statOutBPS:
			st.OutBPS = v
		}
	}
	return w.err()
}

func encodeStats(ae *netlink.AttributeEncoder, st *Stats, wide bool) {
	put := func(t uint16, v uint64, alwaysWide bool) {
		if wide || alwaysWide {
			ae.Uint64(t, v)
		} else {
			ae.Uint32(t, uint32(v))
		}
	}
	put(statConns, st.Conns, false)
	put(statInPkts, st.InPackets, false)
	put(statOutPkts, st.OutPackets, false)
	put(statInBytes, st.InBytes, true)
	put(statOutBytes, st.OutBytes, true)
	put(statCPS, st.CPS, false)
	put(statInPPS, st.InPPS, false)
	put(statOutPPS, st.OutPPS, false)
	put(statInBPS, st.InBPS, false)
	put(statOutBPS, st.OutBPS, false)
}

// encode writes a destination. The address family is always sent, so a
// destination of another family than its service is expressible.
func (d *Destination) encode(ae *netlink.AttributeEncoder, withState bool) {
	k := d.DestinationKey.normalize()
	f := IPv4
	if k.Addr.Is6() {
		f = IPv6
	}
	ae.Uint16(dstAddrFamily, uint16(f))
	ae.Bytes(dstAddr, addr16(k.Addr))
	ae.Bytes(dstPort, attr.Port(k.Port))
	ae.Uint32(dstFwdMethod, uint32(d.Forward)&fwdMask)
	ae.Uint32(dstWeight, uint32(d.Weight))
	ae.Uint32(dstUThresh, d.UpperThreshold)
	ae.Uint32(dstLThresh, d.LowerThreshold)
	if d.Forward == Tunnel {
		ae.Uint8(dstTunType, uint8(d.TunnelType))
		ae.Bytes(dstTunPort, attr.Port(d.TunnelPort))
		ae.Uint16(dstTunFlags, uint16(d.TunnelFlags))
	}
	if withState && d.State != nil {
		ae.Uint32(dstActiveConns, d.State.ActiveConns)
		ae.Uint32(dstInactConns, d.State.InactiveConns)
		ae.Uint32(dstPersistConns, d.State.PersistentConns)
		ae.Nested(dstStats, func(nae *netlink.AttributeEncoder) error {
			encodeStats(nae, &d.State.Stats32, false)
			return nil
		})
		if d.State.Has64 {
			ae.Nested(dstStats64, func(nae *netlink.AttributeEncoder) error {
				encodeStats(nae, &d.State.Stats, true)
				return nil
			})
		}
	}
	for _, u := range d.Unknown {
		ae.Bytes(u.Type, u.Data)
	}
}

// decodeDestination reads a destination; svcFamily is used when the kernel
// does not say the destination's own family (before Linux 3.18).
func decodeDestination(b []byte, svcFamily Family) (*Destination, error) {
	d := &Destination{}
	st := new(DestinationState)
	has, err := decodeDestInto(b, svcFamily, d, st)
	if err != nil {
		return nil, err
	}
	if has {
		d.State = st
	}
	return d, nil
}

// decodeDestInto decodes into d, and into st the state, reporting whether
// there was one (d.State is left for the caller to point at st): a list
// decodes a service's servers into reused scratch space and allocates
// their states in one block.
func decodeDestInto(b []byte, svcFamily Family, d *Destination, st *DestinationState) (bool, error) {
	w := newWalker(b)
	var (
		addr          []byte // these alias b and are decoded below
		fam           = svcFamily
		haveState     bool
		stats, stat64 []byte
	)
	for w.Next() {
		switch w.Kind() {
		case dstAddr:
			addr = w.Data()
		case dstPort:
			d.Port = port(w.Data())
		case dstFwdMethod:
			d.Forward = ForwardMethod(w.U32Host() & fwdMask)
		case dstWeight:
			d.Weight = int(int32(w.U32Host()))
		case dstUThresh:
			d.UpperThreshold = w.U32Host()
		case dstLThresh:
			d.LowerThreshold = w.U32Host()
		case dstActiveConns:
			st.ActiveConns, haveState = w.U32Host(), true
		case dstInactConns:
			st.InactiveConns, haveState = w.U32Host(), true
		case dstPersistConns:
			st.PersistentConns, haveState = w.U32Host(), true
		case dstStats:
			stats = w.Data()
		case dstStats64:
			stat64 = w.Data()
		case dstAddrFamily:
			fam = Family(w.U16Host())
		case dstTunType:
			d.TunnelType = TunnelType(w.U8())
		case dstTunPort:
			d.TunnelPort = port(w.Data())
		case dstTunFlags:
			d.TunnelFlags = TunnelFlags(w.U16Host())
		default:
			d.Unknown = append(d.Unknown, w.raw())
		}
	}
	if err := w.err(); err != nil {
		return false, err
	}
	if addr != nil {
		a, err := decodeAddr(addr, fam)
		if err != nil {
			return false, err
		}
		d.Addr = a
	}
	if stats != nil || stat64 != nil {
		haveState = true
		if err := decodeStatsPair(stats, stat64, &st.Stats32, &st.Stats, &st.Has64); err != nil {
			return false, err
		}
	}
	return haveState, nil
}

func (d *Daemon) encode(ae *netlink.AttributeEncoder) {
	ae.Uint32(dmnState, uint32(d.State))
	ae.String(dmnMcastIfn, d.Interface)
	ae.Uint32(dmnSyncID, d.SyncID)
	if d.MaxLen != 0 {
		ae.Uint16(dmnSyncMaxLen, d.MaxLen)
	}
	if d.Group.Is4() {
		v := d.Group.As4()
		ae.Bytes(dmnMcastGroup, v[:])
	} else if d.Group.IsValid() {
		v := d.Group.As16()
		ae.Bytes(dmnMcastGroup6, v[:])
	}
	if d.Port != 0 {
		ae.Uint16(dmnMcastPort, d.Port) // host order, unlike service ports
	}
	if d.TTL != 0 {
		ae.Uint8(dmnMcastTTL, d.TTL)
	}
	for _, u := range d.Unknown {
		ae.Bytes(u.Type, u.Data)
	}
}

func decodeDaemon(b []byte) (*Daemon, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, err
	}
	d := &Daemon{}
	for ad.Next() {
		switch ad.Type() {
		case dmnState:
			d.State = DaemonState(ad.Uint32())
		case dmnMcastIfn:
			d.Interface = ad.String()
		case dmnSyncID:
			d.SyncID = ad.Uint32()
		case dmnSyncMaxLen:
			d.MaxLen = ad.Uint16()
		case dmnMcastGroup:
			if b := ad.Bytes(); len(b) == 4 {
				d.Group = netip.AddrFrom4([4]byte(b))
			}
		case dmnMcastGroup6:
			if b := ad.Bytes(); len(b) == 16 {
				d.Group = netip.AddrFrom16([16]byte(b))
			}
		case dmnMcastPort:
			d.Port = ad.Uint16()
		case dmnMcastTTL:
			d.TTL = ad.Uint8()
		default:
			d.Unknown = append(d.Unknown, RawAttr{Type: ad.Type() | ad.TypeFlags(), Data: attr.Clone(ad.Bytes())})
		}
	}
	return d, ad.Err()
}
