package conntrack

import (
	"encoding/hex"
	"net/netip"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func seedFlows() []Flow {
	f := tcpFlow("192.0.2.1", "192.0.2.2", 1000, 80)
	f.Reply = f.Origin.Reverse()
	f.Mark, f.Zone, f.ID, f.Use, f.Status = 5, 3, 77, 1, StatusAssured|StatusConfirmed
	f.CountersOrig = &Counters{Packets: 1, Bytes: 60}
	f.CountersReply = &Counters{Packets: 2, Bytes: 120}
	f.Timestamp = &Timestamp{Start: 1, Stop: 2}
	f.Labels = []byte{1, 0, 0, 0}
	f.SeqAdjOrig = &SeqAdj{CorrectionPos: 1, OffsetBefore: 2, OffsetAfter: 3}
	f.Synproxy = &Synproxy{ISN: 1, ITS: 2, TSOff: 3}
	f.Helper, f.SecCtx = "ftp", "system_u:object_r:unlabeled_t:s0"
	f.Master = &Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoTCP, SrcPort: 1, DstPort: 21}
	f.Unknown = []Attr{{Type: 200, Data: []byte{1, 2, 3}}}
	f.Origin.Unknown = []Attr{{Type: 9, Data: []byte{4}}}
	f.TCP.Unknown = []Attr{{Type: 9, Data: nil}}
	sctp := Flow{Origin: Tuple{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"), Proto: ProtoSCTP, SrcPort: 1, DstPort: 2, Zone: 4},
		SCTP: &SCTPInfo{State: 3, VTagOrig: 1, VTagReply: 2}, NATSrc: &NAT{MinIP: netip.MustParseAddr("2001:db8::9"), MinPort: 1, MaxPort: 2}}
	icmp := Flow{Origin: Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoICMP, ICMPType: 8, ICMPID: 3},
		DCCP: &DCCPInfo{State: 1, Role: 2, HandshakeSeq: 3}}
	return []Flow{f, sctp, icmp}
}

// The full encoding of a decoded flow decodes to the same flow.
func TestFlowRoundTrip(t *testing.T) {
	for _, f := range seedFlows() {
		b, err := f.marshal(encodeFull)
		require.NoError(t, err)
		var g Flow
		require.NoError(t, g.unmarshal(b))
		b2, err := g.marshal(encodeFull)
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(b), hex.EncodeToString(b2), "re-encoding must be byte-identical")
		require.Equal(t, f.Origin.Src, g.Origin.Src)
		require.Equal(t, f.Unknown, g.Unknown)
		require.Equal(t, f.Mark, g.Mark)
	}
}

func FuzzFlowDecode(f *testing.F) {
	for _, fl := range seedFlows() {
		b, _ := fl.marshal(encodeFull)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Flow
		if err := a.unmarshal(b); err != nil {
			return
		}
		enc, err := a.marshal(encodeFull)
		if err != nil {
			t.Fatalf("encode of a decoded flow failed: %v", err)
		}
		var c Flow
		if err := c.unmarshal(enc); err != nil {
			t.Fatalf("re-decode failed: %v", err)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("unstable round trip:\n%+v\n%+v", a, c)
		}
		// Every operation's encoder copes with whatever was decoded.
		_, _ = a.marshal(encodeCreate)
		_, _ = a.marshal(encodeUpdate)
		_ = a.String()
		_ = (&Filter{}).Matches(&a)
	})
}

func seedExpectations() []Expectation {
	return []Expectation{{
		Master:  Tuple{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Proto: ProtoTCP, SrcPort: 1, DstPort: 21},
		Tuple:   Tuple{Src: netip.MustParseAddr("192.0.2.2"), Dst: netip.MustParseAddr("192.0.2.1"), Proto: ProtoTCP, DstPort: 5000},
		Mask:    Tuple{Src: netip.MustParseAddr("255.255.255.255"), Dst: netip.MustParseAddr("255.255.255.255"), Proto: ProtoTCP, DstPort: 0xffff},
		Timeout: 300, ID: 5, Helper: "ftp", Zone: 2, Flags: ExpectPermanent, Class: 1, Fn: "nat-follow-master",
		NAT:     &ExpectNAT{Dir: 1, Tuple: Tuple{Src: netip.MustParseAddr("192.0.2.9"), Proto: ProtoTCP, SrcPort: 9}},
		Unknown: []Attr{{Type: 99, Data: []byte{0}}},
	}}
}

func FuzzExpectationDecode(f *testing.F) {
	for _, e := range seedExpectations() {
		ae := newEncoder()
		e.encode(ae, true)
		b, _ := ae.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Expectation
		if err := a.unmarshal(b); err != nil {
			return
		}
		ae := newEncoder()
		a.encode(ae, true)
		enc, err := ae.Encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var c Expectation
		if err := c.unmarshal(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("unstable round trip:\n%+v\n%+v", a, c)
		}
	})
}

func FuzzStatsDecode(f *testing.F) {
	f.Add([]byte{8, 0, 2, 0, 0, 0, 0, 1, 8, 0, 99, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s CPUStats
		_ = s.unmarshal(b)
	})
}

func FuzzEventDecode(f *testing.F) {
	for _, fl := range seedFlows() {
		b, _ := fl.marshal(encodeFull)
		f.Add(uint16(0x100), uint16(0x600), append([]byte{2, 0, 0, 0}, b...))
	}
	f.Fuzz(func(t *testing.T, typ, flags uint16, data []byte) {
		m := nlMessage{Data: data}
		m.Header.Type = nlHeaderType(typ)
		m.Header.Flags = nlHeaderFlags(flags)
		_, _, _ = decodeEvent(m)
	})
}
