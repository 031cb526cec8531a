package iptables

import "strings"

// SCTP is -m sctp (struct xt_sctp_info): ports and chunk types. Chunk
// flags (DATA:U...) are not typed: a rule using them decodes as an
// Extension.
type SCTP struct {
	Src, Dst       PortRange
	HasSrc, HasDst bool
	SrcInv, DstInv bool
	// Chunks are the chunk type numbers of --chunk-types, matched as
	// ChunkMatch says ("any", "all" or "only"); nil without the option.
	Chunks     []uint8
	ChunkMatch string
	ChunksInv  bool
}

// NewSCTP returns an sctp match without options.
func NewSCTP() *SCTP { return &SCTP{} }

// sctpChunkNames are libxt_sctp's chunk names by type.
var sctpChunkNames = map[uint8]string{0: "DATA", 1: "INIT", 2: "INIT_ACK", 3: "SACK", 4: "HEARTBEAT",
	5: "HEARTBEAT_ACK", 6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN_ACK", 9: "ERROR", 10: "COOKIE_ECHO",
	11: "COOKIE_ACK", 12: "ECN_ECNE", 13: "ECN_CWR", 14: "SHUTDOWN_COMPLETE", 64: "I_DATA", 128: "ASCONF_ACK",
	130: "RE_CONFIG", 132: "PAD", 192: "FORWARD_TSN", 193: "ASCONF", 194: "I_FORWARD_TSN"}

// xt_sctp_info: dpts[2], spts[2] (u16), chunkmap[64] (u32: the uapi
// sizes it 256/sizeof(u32)), chunk_match_type, flag_info[4] (3 bytes
// each), flag_count, flags, invflags: 292 bytes, 296 aligned.
const (
	sctpChunkmapOff = 8
	sctpMatchOff    = 264
	sctpFlagInfoOff = 268
	sctpFlagCntOff  = 280
	sctpFlagsOff    = 284
	sctpInvOff      = 288
	sctpSize        = 292

	sctpSrcPorts   = 1 // XT_SCTP_SRC_PORTS
	sctpDestPorts  = 2
	sctpChunkTypes = 4
)

var sctpMatchTypes = map[string]uint32{"any": 1, "all": 2, "only": 4}

func (m *SCTP) Name() string    { return "sctp" }
func (m *SCTP) Revision() uint8 { return 0 }
func (m *SCTP) isMatch()        {}
func (m *SCTP) check(Family) error {
	if m.Chunks != nil {
		if _, ok := sctpMatchTypes[m.ChunkMatch]; !ok {
			return invalid("sctp chunk match %q (any, all or only)", m.ChunkMatch)
		}
	}
	return nil
}

func (m *SCTP) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--sport", "--source-port", "--dport", "--destination-port":
		r, err := p.portRange(opt)
		if opt == "--sport" || opt == "--source-port" {
			m.Src, m.HasSrc, m.SrcInv = r, true, inv
		} else {
			m.Dst, m.HasDst, m.DstInv = r, true, inv
		}
		return true, err
	case "--chunk-types":
		mt, err := p.value(opt)
		if err != nil {
			return true, err
		}
		if _, ok := sctpMatchTypes[mt]; !ok {
			return true, p.bad(mt, "sctp chunk match %q (any, all or only)", mt)
		}
		list, err := p.value(opt)
		if err != nil {
			return true, err
		}
		m.ChunkMatch, m.ChunksInv, m.Chunks = mt, inv, []uint8{}
		if list == "NONE" {
			return true, nil
		}
		for _, n := range strings.Split(list, ",") {
			found := false
			for t, name := range sctpChunkNames {
				if strings.EqualFold(name, n) {
					m.Chunks, found = append(m.Chunks, t), true
				}
			}
			if !found {
				return true, p.bad(n, "sctp chunk type %q (chunk flags are not supported)", n)
			}
		}
		return true, nil
	}
	return false, nil
}

func (m *SCTP) save(b *textBuf, _ Family) {
	if m.HasSrc {
		b.WriteString(not(m.SrcInv) + " --sport " + m.Src.String())
	}
	if m.HasDst {
		b.WriteString(not(m.DstInv) + " --dport " + m.Dst.String())
	}
	if m.Chunks != nil {
		b.WriteString(not(m.ChunksInv) + " --chunk-types " + m.ChunkMatch)
		if len(m.Chunks) == 0 {
			b.WriteString(" NONE")
			return
		}
		// libxt_sctp prints in chunk type order.
		var names []string
		for t := 0; t < 256; t++ {
			if m.hasChunk(uint8(t)) {
				names = append(names, sctpChunkNames[uint8(t)])
			}
		}
		b.WriteString(" " + strings.Join(names, ","))
	}
}

func (m *SCTP) hasChunk(t uint8) bool {
	for _, c := range m.Chunks {
		if c == t {
			return true
		}
	}
	return false
}

func (m *SCTP) info(Family) []byte {
	w := newWB(sctpSize)
	var flags, inv uint32
	if m.HasDst {
		w.u16(0, m.Dst.Lo)
		w.u16(2, m.Dst.Hi)
		flags |= sctpDestPorts
		if m.DstInv {
			inv |= sctpDestPorts
		}
	}
	if m.HasSrc {
		w.u16(4, m.Src.Lo)
		w.u16(6, m.Src.Hi)
		flags |= sctpSrcPorts
		if m.SrcInv {
			inv |= sctpSrcPorts
		}
	}
	if m.Chunks != nil {
		flags |= sctpChunkTypes
		if m.ChunksInv {
			inv |= sctpChunkTypes
		}
		for _, c := range m.Chunks {
			off := sctpChunkmapOff + int(c)/32*4
			w.u32(off, (&rb{b: w.b}).u32(off)|1<<(c%32))
		}
		w.u32(sctpMatchOff, sctpMatchTypes[m.ChunkMatch])
	}
	// libxt_sctp initialises every flag_info's chunk type to 0xff.
	for i := 0; i < 4; i++ {
		w.u8(sctpFlagInfoOff+3*i, 0xff)
	}
	w.u32(sctpFlagsOff, flags)
	w.u32(sctpInvOff, inv)
	return w.b
}

func (m *SCTP) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	*m = SCTP{}
	flags, inv := r.u32(sctpFlagsOff), r.u32(sctpInvOff)
	if flags&^7 != 0 || inv&^flags != 0 || r.u32(sctpFlagCntOff) != 0 {
		return invalid("sctp flags %#x/%#x or chunk flags", flags, inv)
	}
	if flags&sctpDestPorts != 0 {
		m.Dst, m.HasDst, m.DstInv = PortRange{r.u16(0), r.u16(2)}, true, inv&sctpDestPorts != 0
	}
	if flags&sctpSrcPorts != 0 {
		m.Src, m.HasSrc, m.SrcInv = PortRange{r.u16(4), r.u16(6)}, true, inv&sctpSrcPorts != 0
	}
	if flags&sctpChunkTypes != 0 {
		m.Chunks, m.ChunksInv = []uint8{}, inv&sctpChunkTypes != 0
		for t := 0; t < 256; t++ {
			if r.u32(sctpChunkmapOff+t/32*4)&(1<<(t%32)) != 0 {
				if _, ok := sctpChunkNames[uint8(t)]; !ok {
					return invalid("sctp chunk type %d", t)
				}
				m.Chunks = append(m.Chunks, uint8(t))
			}
		}
		mt := r.u32(sctpMatchOff)
		for name, v := range sctpMatchTypes {
			if v == mt {
				m.ChunkMatch = name
			}
		}
		if m.ChunkMatch == "" {
			return invalid("sctp chunk match type %d", mt)
		}
	}
	return r.err("sctp", sctpSize)
}
