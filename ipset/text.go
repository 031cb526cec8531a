package ipset

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// The `ipset save` text format: one `create` line per set followed by an
// `add` line per entry. Options are printed in the order ipset 7.17 prints
// them, so that WriteSave of what the kernel holds equals `ipset save`.

// String prints the entry as ipset does (its dimensions joined by commas,
// without options), e.g. "192.0.2.1,tcp:80".
func (e Entry) String() string {
	return string(e.appendText(nil, nil))
}

func appendAddr(b []byte, a, to netip.Addr, p netip.Prefix) []byte {
	switch {
	case p.IsValid():
		b = p.Addr().AppendTo(b)
		if p.Bits() != p.Addr().BitLen() {
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(p.Bits()), 10)
		}
	case a.IsValid():
		b = a.AppendTo(b)
		if to.IsValid() {
			b = append(b, '-')
			b = to.AppendTo(b)
		}
	}
	return b
}

// appendText prints the entry's dimensions: those of set type ti, or
// (ti nil) those that are set. bitmap:port prints the port without a
// protocol, as ipset does.
func (e *Entry) appendText(b []byte, ti *typeInfo) []byte {
	bitmapPort := ti != nil && ti.name == BitmapPort
	hasPort := ti != nil && ti.has(dimPort)
	hasMark := ti != nil && ti.has(dimMark)
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	if e.Addr.IsValid() || e.Prefix.IsValid() {
		sep()
		b = appendAddr(b, e.Addr, e.AddrTo, e.Prefix)
	}
	if e.Port != 0 || e.PortTo != 0 || e.Proto != 0 || hasPort {
		sep()
		proto := e.Proto
		if !bitmapPort {
			if proto == 0 {
				proto = ProtoTCP
			}
			b = append(b, protoName(proto)...)
			b = append(b, ':')
		}
		if !bitmapPort && (proto == ProtoICMP || proto == ProtoICMPv6) {
			b = append(b, icmpText(proto, e.Port)...)
		} else {
			b = strconv.AppendUint(b, uint64(e.Port), 10)
			if e.PortTo != 0 {
				b = append(b, '-')
				b = strconv.AppendUint(b, uint64(e.PortTo), 10)
			}
		}
	}
	if e.Addr2.IsValid() || e.Prefix2.IsValid() {
		sep()
		b = appendAddr(b, e.Addr2, e.Addr2To, e.Prefix2)
	}
	if len(e.MAC) > 0 {
		sep()
		b = append(b, strings.ToUpper(e.MAC.String())...)
	}
	if e.Iface != "" {
		sep()
		if e.Physdev {
			b = append(b, "physdev:"...)
		}
		b = append(b, e.Iface...)
	}
	if e.Mark != 0 || hasMark {
		sep()
		b = append(b, fmt.Sprintf("0x%08x", e.Mark)...)
	}
	if e.Set != "" {
		sep()
		b = append(b, e.Set...)
	}
	return b
}

// appendOptions prints an entry's options as `ipset save` does for a set
// with s's options.
func (e *Entry) appendOptions(b []byte, s *Set) []byte {
	if s.HasTimeout() {
		b = append(b, " timeout "...)
		b = strconv.AppendUint(b, uint64(seconds(e.Timeout)), 10)
	}
	if e.NoMatch {
		b = append(b, " nomatch"...)
	}
	if s.Counters {
		b = append(b, " packets "...)
		b = strconv.AppendUint(b, e.Packets, 10)
		b = append(b, " bytes "...)
		b = strconv.AppendUint(b, e.Bytes, 10)
	}
	if e.Comment != "" {
		b = append(b, ` comment "`...)
		b = append(b, e.Comment...)
		b = append(b, '"')
	}
	if e.SkbMark != 0 || (e.SkbMarkMask != 0 && e.SkbMarkMask != 0xffffffff) {
		b = append(b, " skbmark 0x"...)
		b = strconv.AppendUint(b, uint64(e.SkbMark), 16)
		if e.SkbMarkMask != 0xffffffff && e.SkbMarkMask != 0 {
			b = append(b, "/0x"...)
			b = strconv.AppendUint(b, uint64(e.SkbMarkMask), 16)
		}
	}
	if e.SkbPrio != 0 {
		b = append(b, " skbprio "...)
		b = strconv.AppendUint(b, uint64(e.SkbPrio>>16), 16)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(e.SkbPrio&0xffff), 16)
	}
	if e.SkbQueue != 0 {
		b = append(b, " skbqueue "...)
		b = strconv.AppendUint(b, uint64(e.SkbQueue), 10)
	}
	return b
}

// AppendCreate appends the set's `create` line (without newline).
func (s *Set) appendCreate(b []byte) []byte {
	b = append(b, "create "...)
	b = append(b, s.Name...)
	b = append(b, ' ')
	b = append(b, s.Type...)
	ti, _ := lookupType(s.Type)
	isHash := ti != nil && ti.kind == kindHash
	switch {
	case isHash:
		if ti.anyFam {
			fam := ti.effectiveFamily(s.Family)
			b = append(b, " family "...)
			b = append(b, fam.String()...)
		}
		if s.MarkMask != 0 {
			b = append(b, fmt.Sprintf(" markmask 0x%08x", s.MarkMask)...)
		}
		if s.HashSize != 0 {
			b = append(b, " hashsize "...)
			b = strconv.AppendUint(b, uint64(s.HashSize), 10)
		}
		if s.MaxElem != 0 {
			b = append(b, " maxelem "...)
			b = strconv.AppendUint(b, uint64(s.MaxElem), 10)
		}
	case s.Type == BitmapPort:
		b = append(b, " range "...)
		b = strconv.AppendUint(b, uint64(s.PortFrom), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(s.PortTo), 10)
	case s.RangeFrom.IsValid():
		b = append(b, " range "...)
		b = s.RangeFrom.AppendTo(b)
		b = append(b, '-')
		b = s.RangeTo.AppendTo(b)
	}
	if s.NetMask != 0 {
		b = append(b, " netmask "...)
		b = strconv.AppendUint(b, uint64(s.NetMask), 10)
	}
	// hash:ip prints its bitmask with netmask; the other types after
	// initval (as ipset 7.17 does).
	bitmaskLate := s.Type != HashIP
	if s.BitMask.IsValid() && !bitmaskLate {
		b = append(b, " bitmask "...)
		b = s.BitMask.AppendTo(b)
	}
	if s.Size != 0 {
		b = append(b, " size "...)
		b = strconv.AppendUint(b, uint64(s.Size), 10)
	}
	if s.HasTimeout() {
		b = append(b, " timeout "...)
		b = strconv.AppendUint(b, uint64(seconds(s.Timeout)), 10)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Counters, " counters"}, {s.Comment, " comment"}, {s.SkbInfo, " skbinfo"}, {s.ForceAdd, " forceadd"}} {
		if f.on {
			b = append(b, f.name...)
		}
	}
	if isHash {
		if s.BucketSize != 0 {
			b = append(b, " bucketsize "...)
			b = strconv.AppendUint(b, uint64(s.BucketSize), 10)
		}
		if s.InitVal != 0 {
			b = append(b, fmt.Sprintf(" initval 0x%08x", s.InitVal)...)
		}
	}
	if s.BitMask.IsValid() && bitmaskLate {
		b = append(b, " bitmask "...)
		b = s.BitMask.AppendTo(b)
	}
	return b
}

// WriteSave prints sets and their entries in the `ipset save` format.
func WriteSave(w io.Writer, sets []SetEntries) error {
	sw := newSaveWriter(w)
	for i := range sets {
		sw.set(&sets[i].Set)
		for j := range sets[i].Entries {
			sw.entry(&sets[i].Set, &sets[i].Entries[j])
		}
	}
	if sw.err != nil {
		return sw.err
	}
	return sw.w.Flush()
}

func newSaveWriter(w io.Writer) *saveWriter {
	return &saveWriter{w: bufio.NewWriterSize(w, 64*1024)}
}

type saveWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (sw *saveWriter) set(s *Set) {
	sw.buf = s.appendCreate(sw.buf[:0])
	sw.buf = append(sw.buf, '\n')
	if _, err := sw.w.Write(sw.buf); err != nil && sw.err == nil {
		sw.err = err
	}
}

func (sw *saveWriter) entry(s *Set, e *Entry) {
	b := append(sw.buf[:0], "add "...)
	b = append(b, s.Name...)
	b = append(b, ' ')
	ti, _ := lookupType(s.Type)
	b = e.appendText(b, ti)
	b = e.appendOptions(b, s)
	b = append(b, '\n')
	sw.buf = b
	if _, err := sw.w.Write(b); err != nil && sw.err == nil {
		sw.err = err
	}
}
