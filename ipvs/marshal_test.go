package ipvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
)

func encodeService(s *Service, withState bool) []byte {
	ae := netlink.NewAttributeEncoder()
	s.encode(ae, withState)
	b, _ := ae.Encode()
	return b
}

func encodeDest(d *Destination, withState bool) []byte {
	ae := netlink.NewAttributeEncoder()
	d.encode(ae, withState)
	b, _ := ae.Encode()
	return b
}

func TestServiceRoundTrip(t *testing.T) {
	for _, s := range []Service{
		{ServiceKey: ServiceKey{Family: IPv4, Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80}, Scheduler: RoundRobin},
		{ServiceKey: ServiceKey{Family: IPv6, Protocol: UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53},
			Scheduler: SourceHashing, Flags: FlagSHFallback | FlagSHPort | FlagOnePacket, Timeout: 60 * time.Second, Netmask: 64},
		{ServiceKey: ServiceKey{Family: IPv4, Protocol: SCTP, Addr: netip.MustParseAddr("192.0.2.2"), Port: 5000},
			Scheduler: MaglevHashing, Flags: FlagMHPort, Timeout: 30 * time.Second, Netmask: 24, PE: "sip",
			State:   &ServiceState{Stats: Stats{Conns: 1 << 40, InBytes: 5, OutBPS: 7}, Stats32: Stats{Conns: 3, InBytes: 5}, Has64: true, Hashed: true},
			Unknown: []RawAttr{{Type: 99, Data: []byte{1, 2, 3, 4}}}},
		{ServiceKey: ServiceKey{Family: IPv6, FWMark: 7}, Scheduler: WeightedLeastConnection},
	} {
		b := encodeService(&s, true)
		got, err := decodeService(b)
		if err != nil {
			t.Fatalf("%s: %v", s.ServiceKey, err)
		}
		if !reflect.DeepEqual(*got, s) {
			t.Errorf("round trip of %s:\n got %#v\nwant %#v", s.ServiceKey, *got, s)
		}
		if again := encodeService(got, true); !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", s.ServiceKey)
		}
	}
}

// The wire shapes the kernel insists on: addresses are 16 bytes, ports
// big-endian, IPv4 netmask the mask's bytes, IPv6 netmask a prefix length,
// and the flags mask all ones.
func TestServiceWireShape(t *testing.T) {
	s := Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 0x1f90},
		Scheduler: RoundRobin, Timeout: 300 * time.Second, Netmask: 24}
	ad, err := netlink.NewAttributeDecoder(encodeService(&s, false))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint16][]byte{}
	for ad.Next() {
		seen[ad.Type()] = append([]byte{}, ad.Bytes()...)
	}
	check := func(typ uint16, want []byte) {
		t.Helper()
		if !bytes.Equal(seen[typ], want) {
			t.Errorf("attr %d = % x, want % x", typ, seen[typ], want)
		}
	}
	ne := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	check(svcAF, binary.NativeEndian.AppendUint16(nil, 2))
	check(svcAddr, []byte{192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	check(svcPort, []byte{0x1f, 0x90})
	check(svcNetmask, []byte{255, 255, 255, 0})
	check(svcFlags, append(ne(svcFlagPersistent), 0xff, 0xff, 0xff, 0xff))
	check(svcTimeout, ne(300))
	check(svcSched, []byte("rr\x00"))
	s6 := Service{ServiceKey: ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 80}, Scheduler: RoundRobin}
	ad, _ = netlink.NewAttributeDecoder(encodeService(&s6, false))
	for ad.Next() {
		if ad.Type() == svcNetmask && ad.Uint32() != 128 {
			t.Errorf("IPv6 default netmask %d, want 128", ad.Uint32())
		}
	}
}

func TestDestinationRoundTrip(t *testing.T) {
	for _, d := range []Destination{
		{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("198.51.100.1"), Port: 8080}, Forward: Masquerade, Weight: 3},
		{DestinationKey: DestinationKey{Addr: netip.MustParseAddr("2001:db8::2"), Port: 80}, Forward: Tunnel, Weight: 1,
			TunnelType: TunnelGUE, TunnelPort: 6080, TunnelFlags: TunnelRemoteChecksum, UpperThreshold: 100, LowerThreshold: 10,
			State: &DestinationState{ActiveConns: 1, InactiveConns: 2, PersistentConns: 3, Stats: Stats{InPackets: 9}, Stats32: Stats{InPackets: 9}, Has64: true}},
	} {
		b := encodeDest(&d, true)
		got, err := decodeDestination(b, IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, d) {
			t.Errorf("round trip:\n got %+v\nwant %+v", *got, d)
		}
	}
	// A kernel without IPVS_DEST_ATTR_ADDR_FAMILY: the service's family.
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(dstAddr, addr16(netip.MustParseAddr("2001:db8::9")))
	b, _ := ae.Encode()
	d, err := decodeDestination(b, IPv6)
	if err != nil || d.Addr != netip.MustParseAddr("2001:db8::9") {
		t.Errorf("family fallback: %v %v", d, err)
	}
}

func TestStats32And64(t *testing.T) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(statConns, func(*netlink.AttributeEncoder) error { return nil }) // junk length: skipped
	ae.Uint32(statConns, 7)
	ae.Uint64(statInBytes, 1<<33)
	b, _ := ae.Encode()
	var st Stats
	if err := decodeStats(b, &st); err != nil || st.Conns != 7 || st.InBytes != 1<<33 {
		t.Errorf("stats %+v %v", st, err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(svcAF, []byte{1}) // a u16 of one byte
	b, _ := ae.Encode()
	if _, err := decodeService(b); err == nil {
		t.Error("short AF attribute accepted")
	}
	if _, err := decodeDestination([]byte{1, 2, 3}, IPv4); err == nil {
		t.Error("truncated attributes accepted")
	}
	ae = netlink.NewAttributeEncoder()
	ae.Bytes(svcAF, binary.NativeEndian.AppendUint16(nil, 2))
	ae.Bytes(svcAddr, []byte{1, 2, 3})
	b, _ = ae.Encode()
	if _, err := decodeService(b); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("3-byte address: %v", err)
	}
}

func TestDaemonRoundTrip(t *testing.T) {
	d := Daemon{State: Backup, Interface: "eth0", SyncID: 9, MaxLen: 1400, Group: netip.MustParseAddr("ff02::81"), Port: 8849, TTL: 2}
	ae := netlink.NewAttributeEncoder()
	d.encode(ae)
	b, _ := ae.Encode()
	got, err := decodeDaemon(b)
	if err != nil || !reflect.DeepEqual(*got, d) {
		t.Errorf("daemon round trip %+v %v", got, err)
	}
}

// TestAppendDestRequest: the hand-built GET_DEST request ListServices
// sends per service is byte for byte what the attribute encoder builds.
func TestAppendDestRequest(t *testing.T) {
	keys := []ServiceKey{
		{Protocol: TCP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 80},
		{Protocol: UDP, Addr: netip.MustParseAddr("2001:db8::53"), Port: 53},
		{Protocol: SCTP, Addr: netip.MustParseAddr("::ffff:198.51.100.7"), Port: 0},
		{FWMark: 7},
		{FWMark: 0xfffffffe, Family: IPv6},
		{Protocol: TCP, Family: IPv6, Port: 65535},
	}
	buf := []byte("reused")
	for _, k := range keys {
		attrs, err := serviceAttrs(&Service{ServiceKey: k}, false)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte{byte(cmdGetDest), genlVersion, 0, 0}, attrs...)
		buf = appendDestRequest(buf[:0], k)
		if !bytes.Equal(buf, want) {
			t.Errorf("%v:\n got % x\nwant % x", k, buf, want)
		}
	}
}
