package ipset

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/internal/attr"
)

// Attributes are appended in ascending type order with the line number
// last, which is the order the ipset CLI uses: the unit tests compare our
// bytes with the CLI's byte for byte.

// appendCreateData appends the IPSET_ATTR_DATA nest of a create request
// (and, with kernel set, of a listing: the read-only counters too, so that
// decode → encode → decode is stable).
func (s *Set) appendCreateData(w *abuf, kernel bool) {
	off := w.begin(attrData)
	if s.RangeFrom.IsValid() {
		w.addr(attrIP, s.RangeFrom)
	}
	if s.RangeTo.IsValid() {
		w.addr(attrIPTo, s.RangeTo)
	}
	if s.PortFrom != 0 || s.PortTo != 0 {
		w.u16(attrPort, s.PortFrom)
		w.u16(attrPortTo, s.PortTo)
	}
	if s.HasTimeout() {
		w.u32(attrTimeout, seconds(s.Timeout))
	}
	if f := s.cadtFlags(); f != 0 {
		w.u32(attrCADTFlags, f)
	}
	if s.MarkMask != 0 {
		w.u32(attrMarkMask, s.MarkMask)
	}
	if s.BitMask.IsValid() {
		w.addr(attrBitMask, s.BitMask)
	}
	if s.InitVal != 0 {
		w.u32(attrInitVal, s.InitVal)
	}
	if s.HashSize != 0 {
		w.u32(attrHashSize, s.HashSize)
	}
	if s.MaxElem != 0 {
		w.u32(attrMaxElem, s.MaxElem)
	}
	if s.NetMask != 0 {
		w.U8(attrNetMask, s.NetMask)
	}
	if s.BucketSize != 0 {
		w.U8(attrBucketSize, s.BucketSize)
	}
	if s.Size != 0 {
		w.u32(attrSize, s.Size)
	}
	if kernel {
		w.u32(attrElements, s.Entries)
		w.u32(attrReferences, s.References)
		w.u32(attrMemSize, s.MemSize)
	}
	w.Buf = append(w.Buf, s.Raw...)
	w.End(off)
}

func (s *Set) cadtFlags() uint32 {
	var f uint32
	if s.Counters {
		f |= cadtWithCounters
	}
	if s.Comment {
		f |= cadtWithComment
	}
	if s.ForceAdd {
		f |= cadtWithForceAdd
	}
	if s.SkbInfo {
		f |= cadtWithSkbInfo
	}
	return f
}

func seconds(d time.Duration) uint32 {
	s := d / time.Second
	if s > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(s)
}

// unmarshalCreateData decodes the IPSET_ATTR_DATA nest of a set header.
// Unknown attributes are kept in Raw.
func (s *Set) unmarshalCreateData(b []byte) error {
	it := attr.NewIter(b)
	for it.Next() {
		var err error
		switch it.Kind() {
		case attrIP:
			s.RangeFrom, err = nestedAddr(it.Data())
		case attrIPTo:
			s.RangeTo, err = nestedAddr(it.Data())
		case attrBitMask:
			s.BitMask, err = nestedAddr(it.Data())
		case attrCIDR:
			// bitmap:ip created from a CIDR; the kernel lists IP_TO, but
			// keep an unexpected CIDR by turning it into the range end.
			var v uint64
			if v, err = uintAttr(&it); err == nil && s.RangeFrom.IsValid() {
				p, perr := s.RangeFrom.Prefix(int(v))
				if perr != nil {
					return fmt.Errorf("ipset: set header: cidr %d: %w", v, perr)
				}
				s.RangeTo = lastAddr(p)
			}
		case attrPort, attrPortTo, attrTimeout, attrCADTFlags, attrMarkMask, attrInitVal,
			attrHashSize, attrMaxElem, attrNetMask, attrBucketSize, attrSize,
			attrElements, attrReferences, attrMemSize:
			var v uint64
			if v, err = uintAttr(&it); err != nil {
				break
			}
			if v > 0xffffffff {
				err = fmt.Errorf("value %d does not fit 32 bits", v)
				break
			}
			s.setHeaderInt(it.Kind(), v)
		default:
			s.Raw = appendRaw(s.Raw, &it)
		}
		if err != nil {
			return fmt.Errorf("ipset: set header attribute %d: %w", it.Kind(), err)
		}
	}
	return walkErr(&it)
}

func (s *Set) setHeaderInt(typ uint16, v uint64) {
	switch typ {
	case attrPort:
		s.PortFrom = uint16(v)
	case attrPortTo:
		s.PortTo = uint16(v)
	case attrTimeout:
		s.Timeout = time.Duration(v) * time.Second
		s.WithTimeout = true
	case attrCADTFlags:
		// OR, not assign: unknown bits come back through Raw as a second
		// flags attribute.
		f := uint32(v)
		s.Counters = s.Counters || f&cadtWithCounters != 0
		s.Comment = s.Comment || f&cadtWithComment != 0
		s.ForceAdd = s.ForceAdd || f&cadtWithForceAdd != 0
		s.SkbInfo = s.SkbInfo || f&cadtWithSkbInfo != 0
		if rest := f &^ (cadtWithCounters | cadtWithComment | cadtWithForceAdd | cadtWithSkbInfo); rest != 0 {
			var w abuf
			w.u32(attrCADTFlags, rest)
			s.Raw = append(s.Raw, w.Buf...)
		}
	case attrMarkMask:
		s.MarkMask = uint32(v)
	case attrInitVal:
		s.InitVal = uint32(v)
	case attrHashSize:
		s.HashSize = uint32(v)
	case attrMaxElem:
		s.MaxElem = uint32(v)
	case attrNetMask:
		s.NetMask = uint8(v)
	case attrBucketSize:
		s.BucketSize = uint8(v)
	case attrSize:
		s.Size = uint32(v)
	case attrElements:
		s.Entries = uint32(v)
	case attrReferences:
		s.References = uint32(v)
	case attrMemSize:
		s.MemSize = uint32(v)
	}
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// appendEntryData appends one entry's attributes (the content of an
// IPSET_ATTR_DATA nest); lineno 0 leaves the line number out. defProto is
// sent when Proto is 0 (TCP for hash types with a port, as the ipset CLI
// assumes; 0 elsewhere).
func (e *Entry) appendEntryData(w *abuf, lineno uint32, defProto uint8) {
	proto := e.Proto
	if proto == 0 {
		proto = defProto
	}
	switch {
	case e.Prefix.IsValid():
		w.addr(attrIP, e.Prefix.Addr())
	case e.Addr.IsValid():
		w.addr(attrIP, e.Addr)
	}
	if e.AddrTo.IsValid() {
		w.addr(attrIPTo, e.AddrTo)
	}
	if e.Prefix.IsValid() {
		w.U8(attrCIDR, uint8(e.Prefix.Bits()))
	}
	if e.Port != 0 || e.PortTo != 0 || proto != 0 {
		w.u16(attrPort, e.Port)
	}
	if e.PortTo != 0 {
		w.u16(attrPortTo, e.PortTo)
	}
	if e.TimeoutSet || e.Timeout > 0 {
		w.u32(attrTimeout, seconds(e.Timeout))
	}
	if proto != 0 {
		w.U8(attrProto, proto)
	}
	if f := e.cadtFlags(); f != 0 {
		w.u32(attrCADTFlags, f)
	}
	if e.Mark != 0 {
		w.u32(attrMark, e.Mark)
	}
	if len(e.MAC) > 0 {
		w.Bytes(attrEther, e.MAC)
	}
	if e.Set != "" {
		w.String(attrName, e.Set)
	}
	switch {
	case e.Before != "":
		w.String(attrNameRef, e.Before)
	case e.After != "":
		w.String(attrNameRef, e.After)
	}
	switch {
	case e.Prefix2.IsValid():
		w.addr(attrIP2, e.Prefix2.Addr())
		w.U8(attrCIDR2, uint8(e.Prefix2.Bits()))
	case e.Addr2.IsValid():
		w.addr(attrIP2, e.Addr2)
	}
	if e.Addr2To.IsValid() {
		w.addr(attrIP2To, e.Addr2To)
	}
	if e.Iface != "" {
		w.String(attrIface, e.Iface)
	}
	if e.Bytes != 0 {
		w.u64(attrBytes, e.Bytes)
	}
	if e.Packets != 0 {
		w.u64(attrPackets, e.Packets)
	}
	if e.Comment != "" {
		w.String(attrComment, e.Comment)
	}
	if e.SkbMark != 0 || e.SkbMarkMask != 0 {
		w.u64(attrSkbMark, uint64(e.SkbMark)<<32|uint64(e.SkbMarkMask))
	}
	if e.SkbPrio != 0 {
		w.u32(attrSkbPrio, e.SkbPrio)
	}
	if e.SkbQueue != 0 {
		w.u16(attrSkbQueue, e.SkbQueue)
	}
	w.Buf = append(w.Buf, e.Raw...)
	if lineno != 0 {
		w.u32(attrCADTLineNo, lineno)
	}
}

func (e *Entry) cadtFlags() uint32 {
	var f uint32
	if e.Before != "" {
		f |= cadtBefore
	}
	if e.Physdev {
		f |= cadtPhysdev
	}
	if e.NoMatch {
		f |= cadtNoMatch
	}
	return f
}

// unmarshalEntry decodes the content of one IPSET_ATTR_DATA nest of a
// listing. Attributes it does not know are kept in Raw; the line number is
// dropped (it only means something in a request).
func unmarshalEntry(b []byte) (Entry, error) {
	var (
		e           Entry
		cidr, cidr2 = -1, -1
		flags       uint32
		ref         string
	)
	it := attr.NewIter(b)
	for it.Next() {
		var err error
		var v uint64
		switch it.Kind() {
		case attrIP:
			e.Addr, err = nestedAddr(it.Data())
		case attrIPTo:
			e.AddrTo, err = nestedAddr(it.Data())
		case attrIP2:
			e.Addr2, err = nestedAddr(it.Data())
		case attrIP2To:
			e.Addr2To, err = nestedAddr(it.Data())
		case attrEther:
			if len(it.Data()) != 6 {
				err = fmt.Errorf("MAC of %d bytes", len(it.Data()))
			}
			e.MAC = net.HardwareAddr(append([]byte(nil), it.Data()...))
		case attrName:
			e.Set = attr.CString(it.Data())
		case attrNameRef:
			ref = attr.CString(it.Data())
		case attrIface:
			e.Iface = attr.CString(it.Data())
		case attrComment:
			e.Comment = attr.CString(it.Data())
		case attrCADTLineNo:
		case attrCIDR, attrCIDR2, attrPort, attrPortTo, attrTimeout, attrProto, attrCADTFlags,
			attrMark, attrBytes, attrPackets, attrSkbMark, attrSkbPrio, attrSkbQueue:
			if v, err = uintAttr(&it); err != nil {
				break
			}
			switch it.Kind() {
			case attrCIDR:
				cidr = int(v)
			case attrCIDR2:
				cidr2 = int(v)
			case attrPort:
				e.Port = uint16(v)
			case attrPortTo:
				e.PortTo = uint16(v)
			case attrTimeout:
				if v > 0xffffffff {
					err = fmt.Errorf("timeout %d does not fit 32 bits", v)
				}
				e.Timeout, e.TimeoutSet = time.Duration(v&0xffffffff)*time.Second, true
			case attrProto:
				e.Proto = uint8(v)
			case attrCADTFlags:
				flags |= uint32(v)
			case attrMark:
				e.Mark = uint32(v)
			case attrBytes:
				e.Bytes = v
			case attrPackets:
				e.Packets = v
			case attrSkbMark:
				e.SkbMark, e.SkbMarkMask = uint32(v>>32), uint32(v)
			case attrSkbPrio:
				e.SkbPrio = uint32(v)
			case attrSkbQueue:
				e.SkbQueue = uint16(v)
			}
		default:
			e.Raw = appendRaw(e.Raw, &it)
		}
		if err != nil {
			return e, fmt.Errorf("ipset: entry attribute %d: %w", it.Kind(), err)
		}
	}
	if err := walkErr(&it); err != nil {
		return e, err
	}
	if cidr >= 0 {
		if !e.Addr.IsValid() {
			return e, fmt.Errorf("ipset: entry has a cidr but no address")
		}
		p, err := e.Addr.Prefix(cidr)
		if err != nil || p.Addr() != e.Addr {
			// Keep what the kernel said even if it is not canonical.
			p = netip.PrefixFrom(e.Addr, cidr)
			if !p.IsValid() {
				return e, fmt.Errorf("ipset: entry cidr %d for %s", cidr, e.Addr)
			}
		}
		e.Prefix, e.Addr = p, netip.Addr{}
	}
	if cidr2 >= 0 {
		if !e.Addr2.IsValid() {
			return e, fmt.Errorf("ipset: entry has cidr2 but no second address")
		}
		p := netip.PrefixFrom(e.Addr2, cidr2)
		if !p.IsValid() {
			return e, fmt.Errorf("ipset: entry cidr2 %d for %s", cidr2, e.Addr2)
		}
		e.Prefix2, e.Addr2 = p, netip.Addr{}
	}
	e.NoMatch = flags&cadtNoMatch != 0
	e.Physdev = flags&cadtPhysdev != 0
	if rest := flags &^ (cadtNoMatch | cadtPhysdev | cadtBefore); rest != 0 {
		// Keep unknown entry flags: re-encoded through Raw.
		var w abuf
		w.u32(attrCADTFlags, rest)
		e.Raw = append(e.Raw, w.Buf...)
	}
	if ref != "" {
		if flags&cadtBefore != 0 {
			e.Before = ref
		} else {
			e.After = ref
		}
	}
	return e, nil
}
