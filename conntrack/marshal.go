package conntrack

import (
	"encoding/binary"

	"github.com/mdlayher/netlink"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
)

// encodeMode selects which attributes of a Flow go into a message: the
// kernel refuses read-only attributes (use count, counters, id...) on
// create and several more on update.
type encodeMode int

const (
	encodeFull   encodeMode = iota // everything, as the kernel reports it (round trips, tests)
	encodeCreate                   // IPCTNL_MSG_CT_NEW with NLM_F_CREATE
	encodeUpdate                   // IPCTNL_MSG_CT_NEW without NLM_F_CREATE
	encodeKey                      // GET/DELETE: the tuple, zone and id
)

// marshal encodes f's attributes for mode.
func (f *Flow) marshal(mode encodeMode) ([]byte, error) {
	ae := attr.NewEncoder()
	f.encode(ae, mode)
	return ae.Encode()
}

func (f *Flow) encode(ae *netlink.AttributeEncoder, mode encodeMode) {
	nest(ae, ctaTupleOrig, f.Origin.marshal)
	if mode == encodeKey {
		if f.Zone != 0 {
			ae.Uint16(ctaZone, f.Zone)
		}
		if f.ID != 0 {
			ae.Uint32(ctaID, f.ID)
		}
		return
	}
	if mode != encodeUpdate {
		reply := f.Reply
		if mode == encodeCreate && !reply.Src.IsValid() && !reply.Dst.IsValid() {
			reply = f.Origin.Reverse()
		}
		nest(ae, ctaTupleReply, reply.marshal)
	}
	if f.Master != nil && mode != encodeUpdate {
		nest(ae, ctaTupleMaster, f.Master.marshal)
	}
	full := mode == encodeFull
	switch {
	case full:
		ae.Uint32(ctaStatus, uint32(f.Status))
	case f.Status != 0 && mode == encodeCreate:
		// The kernel marks a flow created over netlink CONFIRMED before
		// applying the requested bits, and refuses to clear that bit.
		ae.Uint32(ctaStatus, uint32(f.Status|StatusConfirmed))
	case f.Status != 0:
		ae.Uint32(ctaStatus, uint32(f.Status))
	}
	if f.TCP != nil || f.SCTP != nil || f.DCCP != nil {
		nest(ae, ctaProtoinfo, func(p *netlink.AttributeEncoder) {
			if f.TCP != nil {
				nest(p, ctaProtoinfoTCP, f.TCP.marshal)
			}
			if f.DCCP != nil {
				nest(p, ctaProtoinfoDCCP, f.DCCP.marshal)
			}
			if f.SCTP != nil {
				nest(p, ctaProtoinfoSCTP, f.SCTP.marshal)
			}
		})
	}
	if f.Helper != "" || f.HelperInfo != nil {
		nest(ae, ctaHelp, func(h *netlink.AttributeEncoder) {
			h.String(ctaHelpName, f.Helper)
			if f.HelperInfo != nil {
				h.Bytes(ctaHelpInfo, f.HelperInfo)
			}
		})
	}
	if mode != encodeUpdate {
		if f.NATSrc != nil {
			nest(ae, ctaNatSrc, f.NATSrc.marshal)
		}
		if f.NATDst != nil {
			nest(ae, ctaNatDst, f.NATDst.marshal)
		}
	}
	if f.Timeout != 0 || full {
		ae.Uint32(ctaTimeout, f.Timeout)
	}
	// The mark is always written on create and update: 0 is a real mark,
	// and a Get-modify-Update keeps it.
	ae.Uint32(ctaMark, f.Mark)
	if full {
		if f.CountersOrig != nil {
			nest(ae, ctaCountersOrig, f.CountersOrig.marshal)
		}
		if f.CountersReply != nil {
			nest(ae, ctaCountersReply, f.CountersReply.marshal)
		}
		ae.Uint32(ctaUse, f.Use)
		ae.Uint32(ctaID, f.ID)
	}
	if f.SeqAdjOrig != nil {
		nest(ae, ctaSeqAdjOrig, f.SeqAdjOrig.marshal)
	}
	if f.SeqAdjReply != nil {
		nest(ae, ctaSeqAdjReply, f.SeqAdjReply.marshal)
	}
	if full && f.Secmark != 0 {
		ae.Uint32(ctaSecmark, f.Secmark)
	}
	if f.Zone != 0 && mode != encodeUpdate {
		ae.Uint16(ctaZone, f.Zone)
	}
	if full && f.SecCtx != "" {
		nest(ae, ctaSecCtx, func(s *netlink.AttributeEncoder) { s.String(ctaSecCtxName, f.SecCtx) })
	}
	if full && f.Timestamp != nil {
		nest(ae, ctaTimestamp, f.Timestamp.marshal)
	}
	if f.Labels != nil {
		ae.Bytes(ctaLabels, f.Labels)
	}
	if f.LabelsMask != nil {
		ae.Bytes(ctaLabelsMask, f.LabelsMask)
	}
	if f.Synproxy != nil {
		nest(ae, ctaSynproxy, f.Synproxy.marshal)
	}
	putUnknown(ae, f.Unknown)
}

func (t *TCPInfo) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint8(ctaTCPState, uint8(t.State))
	ae.Uint8(ctaTCPWscaleOrig, t.WScaleOrig)
	ae.Uint8(ctaTCPWscaleReply, t.WScaleReply)
	ae.Bytes(ctaTCPFlagsOrig, []byte{t.FlagsOrig.Flags, t.FlagsOrig.Mask})
	ae.Bytes(ctaTCPFlagsReply, []byte{t.FlagsReply.Flags, t.FlagsReply.Mask})
	putUnknown(ae, t.Unknown)
}

func (s *SCTPInfo) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint8(ctaSCTPState, s.State)
	ae.Uint32(ctaSCTPVtagOrig, s.VTagOrig)
	ae.Uint32(ctaSCTPVtagReply, s.VTagReply)
	putUnknown(ae, s.Unknown)
}

func (d *DCCPInfo) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint8(ctaDCCPState, d.State)
	ae.Uint8(ctaDCCPRole, d.Role)
	ae.Uint64(ctaDCCPHandshakeSeq, d.HandshakeSeq)
	putUnknown(ae, d.Unknown)
}

func (c *Counters) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint64(ctaCountersPackets, c.Packets)
	ae.Uint64(ctaCountersBytes, c.Bytes)
	putUnknown(ae, c.Unknown)
}

func (t *Timestamp) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint64(ctaTimestampStart, t.Start)
	if t.Stop != 0 {
		ae.Uint64(ctaTimestampStop, t.Stop)
	}
	putUnknown(ae, t.Unknown)
}

func (s *SeqAdj) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint32(ctaSeqAdjCorrectionPos, s.CorrectionPos)
	ae.Uint32(ctaSeqAdjOffsetBefore, s.OffsetBefore)
	ae.Uint32(ctaSeqAdjOffsetAfter, s.OffsetAfter)
	putUnknown(ae, s.Unknown)
}

func (s *Synproxy) marshal(ae *netlink.AttributeEncoder) {
	ae.Uint32(ctaSynproxyISN, s.ISN)
	ae.Uint32(ctaSynproxyITS, s.ITS)
	ae.Uint32(ctaSynproxyTSOff, s.TSOff)
	putUnknown(ae, s.Unknown)
}

func (n *NAT) marshal(ae *netlink.AttributeEncoder) {
	putAddr(ae, ctaNatV4MinIP, ctaNatV6MinIP, n.MinIP)
	putAddr(ae, ctaNatV4MaxIP, ctaNatV6MaxIP, n.MaxIP)
	if n.MinPort != 0 || n.MaxPort != 0 {
		nest(ae, ctaNatProto, func(p *netlink.AttributeEncoder) {
			p.Uint16(ctaProtoNatPortMin, n.MinPort)
			p.Uint16(ctaProtoNatPortMax, n.MaxPort)
		})
	}
	putUnknown(ae, n.Unknown)
}

// unmarshalFlowMessage decodes a ctnetlink message (nfgenmsg + attributes).
// a may be nil (see flowAlloc).
func unmarshalFlowMessage(m netlink.Message, a *flowAlloc) (Flow, error) {
	_, b, err := nfnl.Unmarshal(m.Data)
	if err != nil {
		return Flow{}, err
	}
	var f Flow
	err = f.unmarshalWith(b, a)
	return f, err
}

// unmarshal decodes flow attributes into f. It never panics; a malformed
// attribute is an error, an unknown one is kept.
func (f *Flow) unmarshal(b []byte) error { return f.unmarshalWith(b, nil) }

// unmarshalWith is unmarshal taking the optional parts from a (nil: one
// allocation each).
func (f *Flow) unmarshalWith(b []byte, a *flowAlloc) error {
	w := newWalker(b)
	for w.Next() {
		switch w.Kind() {
		case ctaTupleOrig:
			unmarshalTuple(&w, &f.Origin)
		case ctaTupleReply:
			unmarshalTuple(&w, &f.Reply)
		case ctaTupleMaster:
			f.Master = new(Tuple)
			unmarshalTuple(&w, f.Master)
		case ctaStatus:
			f.Status = Status(w.u32("CTA_STATUS"))
		case ctaProtoinfo:
			f.unmarshalProtoinfo(&w, a)
		case ctaHelp:
			if hasUnknown(w.Data(), ctaHelpInfo) {
				f.Unknown = append(f.Unknown, w.raw())
				break
			}
			n := w.child()
			for n.Next() {
				switch n.Kind() {
				case ctaHelpName:
					f.Helper = attr.CString(n.Data())
				case ctaHelpInfo:
					f.HelperInfo = attr.Clone(n.Data())
				}
			}
			w.join(&n)
		case ctaNatSrc:
			f.NATSrc = new(NAT)
			f.NATSrc.unmarshal(&w)
		case ctaNatDst:
			f.NATDst = new(NAT)
			f.NATDst.unmarshal(&w)
		case ctaTimeout:
			f.Timeout = w.u32("CTA_TIMEOUT")
		case ctaMark:
			f.Mark = w.u32("CTA_MARK")
		case ctaCountersOrig:
			f.CountersOrig = a.counters()
			f.CountersOrig.unmarshal(&w)
		case ctaCountersReply:
			f.CountersReply = a.counters()
			f.CountersReply.unmarshal(&w)
		case ctaUse:
			f.Use = w.u32("CTA_USE")
		case ctaID:
			f.ID = w.u32("CTA_ID")
		case ctaSeqAdjOrig:
			f.SeqAdjOrig = a.seqAdj()
			f.SeqAdjOrig.unmarshal(&w)
		case ctaSeqAdjReply:
			f.SeqAdjReply = a.seqAdj()
			f.SeqAdjReply.unmarshal(&w)
		case ctaSecmark:
			f.Secmark = w.u32("CTA_SECMARK")
		case ctaZone:
			f.Zone = w.u16("CTA_ZONE")
		case ctaSecCtx:
			if hasUnknown(w.Data(), ctaSecCtxName) {
				f.Unknown = append(f.Unknown, w.raw())
				break
			}
			n := w.child()
			for n.Next() {
				f.SecCtx = attr.CString(n.Data())
			}
			w.join(&n)
		case ctaTimestamp:
			f.Timestamp = a.timestamp()
			f.Timestamp.unmarshal(&w)
		case ctaLabels:
			f.Labels = attr.Clone(w.Data())
		case ctaLabelsMask:
			f.LabelsMask = attr.Clone(w.Data())
		case ctaSynproxy:
			f.Synproxy = a.synproxy()
			f.Synproxy.unmarshal(&w)
		default:
			f.Unknown = append(f.Unknown, w.raw())
		}
	}
	return w.err()
}

// hasUnknown reports whether the nest b holds an attribute of a type above
// max (or 0): such nests are kept whole as unknown, so nothing is lost and
// nothing is written twice.
func hasUnknown(b []byte, max uint16) bool {
	n := newWalker(b)
	for n.Next() {
		if k := n.Kind(); k == 0 || k > max {
			return true
		}
	}
	return false
}

func (f *Flow) unmarshalProtoinfo(w *walker, a *flowAlloc) {
	if hasUnknown(w.Data(), ctaProtoinfoSCTP) {
		f.Unknown = append(f.Unknown, w.raw())
		return
	}
	p := w.child()
	for p.Next() {
		n := p.child()
		switch p.Kind() {
		case ctaProtoinfoTCP:
			f.TCP = a.tcp()
			f.TCP.unmarshal(&n)
		case ctaProtoinfoDCCP:
			f.DCCP = new(DCCPInfo)
			f.DCCP.unmarshal(&n)
		case ctaProtoinfoSCTP:
			f.SCTP = new(SCTPInfo)
			f.SCTP.unmarshal(&n)
		}
		p.join(&n)
	}
	w.join(&p)
}

func (t *TCPInfo) unmarshal(w *walker) {
	for w.Next() {
		switch w.Kind() {
		case ctaTCPState:
			t.State = TCPState(w.u8("CTA_PROTOINFO_TCP_STATE"))
		case ctaTCPWscaleOrig:
			t.WScaleOrig = w.u8("CTA_PROTOINFO_TCP_WSCALE_ORIGINAL")
		case ctaTCPWscaleReply:
			t.WScaleReply = w.u8("CTA_PROTOINFO_TCP_WSCALE_REPLY")
		case ctaTCPFlagsOrig, ctaTCPFlagsReply:
			if len(w.Data()) != 2 {
				w.fail("CTA_PROTOINFO_TCP_FLAGS", 2)
				return
			}
			fl := TCPFlags{Flags: w.Data()[0], Mask: w.Data()[1]}
			if w.Kind() == ctaTCPFlagsOrig {
				t.FlagsOrig = fl
			} else {
				t.FlagsReply = fl
			}
		default:
			t.Unknown = append(t.Unknown, w.raw())
		}
	}
}

func (s *SCTPInfo) unmarshal(w *walker) {
	for w.Next() {
		switch w.Kind() {
		case ctaSCTPState:
			s.State = w.u8("CTA_PROTOINFO_SCTP_STATE")
		case ctaSCTPVtagOrig:
			s.VTagOrig = w.u32("CTA_PROTOINFO_SCTP_VTAG_ORIGINAL")
		case ctaSCTPVtagReply:
			s.VTagReply = w.u32("CTA_PROTOINFO_SCTP_VTAG_REPLY")
		default:
			s.Unknown = append(s.Unknown, w.raw())
		}
	}
}

func (d *DCCPInfo) unmarshal(w *walker) {
	for w.Next() {
		switch w.Kind() {
		case ctaDCCPState:
			d.State = w.u8("CTA_PROTOINFO_DCCP_STATE")
		case ctaDCCPRole:
			d.Role = w.u8("CTA_PROTOINFO_DCCP_ROLE")
		case ctaDCCPHandshakeSeq:
			d.HandshakeSeq = w.u64("CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ")
		default:
			d.Unknown = append(d.Unknown, w.raw())
		}
	}
}

func (c *Counters) unmarshal(w *walker) {
	n := w.child()
	for n.Next() {
		switch n.Kind() {
		case ctaCountersPackets:
			c.Packets = n.u64("CTA_COUNTERS_PACKETS")
		case ctaCountersBytes:
			c.Bytes = n.u64("CTA_COUNTERS_BYTES")
		default:
			c.Unknown = append(c.Unknown, n.raw())
		}
	}
	w.join(&n)
}

func (t *Timestamp) unmarshal(w *walker) {
	n := w.child()
	for n.Next() {
		switch n.Kind() {
		case ctaTimestampStart:
			t.Start = n.u64("CTA_TIMESTAMP_START")
		case ctaTimestampStop:
			t.Stop = n.u64("CTA_TIMESTAMP_STOP")
		default:
			t.Unknown = append(t.Unknown, n.raw())
		}
	}
	w.join(&n)
}

func (s *SeqAdj) unmarshal(w *walker) {
	n := w.child()
	for n.Next() {
		switch n.Kind() {
		case ctaSeqAdjCorrectionPos:
			s.CorrectionPos = n.u32("CTA_SEQADJ_CORRECTION_POS")
		case ctaSeqAdjOffsetBefore:
			s.OffsetBefore = n.u32("CTA_SEQADJ_OFFSET_BEFORE")
		case ctaSeqAdjOffsetAfter:
			s.OffsetAfter = n.u32("CTA_SEQADJ_OFFSET_AFTER")
		default:
			s.Unknown = append(s.Unknown, n.raw())
		}
	}
	w.join(&n)
}

func (s *Synproxy) unmarshal(w *walker) {
	n := w.child()
	for n.Next() {
		switch n.Kind() {
		case ctaSynproxyISN:
			s.ISN = n.u32("CTA_SYNPROXY_ISN")
		case ctaSynproxyITS:
			s.ITS = n.u32("CTA_SYNPROXY_ITS")
		case ctaSynproxyTSOff:
			s.TSOff = n.u32("CTA_SYNPROXY_TSOFF")
		default:
			s.Unknown = append(s.Unknown, n.raw())
		}
	}
	w.join(&n)
}

func (n *NAT) unmarshal(w *walker) {
	a := w.child()
	for a.Next() {
		switch a.Kind() {
		case ctaNatV4MinIP, ctaNatV6MinIP:
			n.MinIP = decodeAddr(&a, a.Kind() == ctaNatV4MinIP)
		case ctaNatV4MaxIP, ctaNatV6MaxIP:
			n.MaxIP = decodeAddr(&a, a.Kind() == ctaNatV4MaxIP)
		case ctaNatProto:
			if hasUnknown(a.Data(), ctaProtoNatPortMax) {
				n.Unknown = append(n.Unknown, a.raw())
				break
			}
			p := a.child()
			for p.Next() {
				if p.Kind() == ctaProtoNatPortMin {
					n.MinPort = p.u16("CTA_PROTONAT_PORT_MIN")
				} else {
					n.MaxPort = p.u16("CTA_PROTONAT_PORT_MAX")
				}
			}
			a.join(&p)
		default:
			n.Unknown = append(n.Unknown, a.raw())
		}
	}
	w.join(&a)
}

// hostU32 encodes a host-endian u32 (CTA_FILTER flag words).
func hostU32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
