package ipvs

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// This text is what Debian's ipvsadm 1.31 printed for `ipvsadm -Sn` after
// the commands in vmtest, captured in the VM (testdata would be overkill
// for eleven lines).
const ipvsadmSaved = `-A -t 192.0.2.1:80 -s rr
-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3
-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 0
-a -t 192.0.2.1:80 -r 198.51.100.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 192.0.2.1:80 -r 198.51.100.4:80 -i -w 1 --tun-type gre --tun-csum
-A --sctp-service 192.0.2.2:5000 -s mh -p 30 -M 255.255.255.0 --pe sip -b mh-port
-A -u [2001:db8::1]:53 -s sh -p 60 -M 64 -o -b sh-fallback,sh-port
-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 1
-A -f 7 -s wlc
-a -f 7 -r 198.51.100.9:0 -g -w 1
-A -f 8 -6 -s lc
`

func TestParseSaveIpvsadmText(t *testing.T) {
	svcs, err := ParseRules(strings.NewReader(ipvsadmSaved))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 5 {
		t.Fatalf("%d services", len(svcs))
	}
	udp := svcs[2]
	if udp.Protocol != UDP || udp.Addr != netip.MustParseAddr("2001:db8::1") || udp.Timeout != time.Minute ||
		udp.Netmask != 64 || udp.Flags != FlagOnePacket|FlagSHFallback|FlagSHPort || udp.Scheduler != SourceHashing {
		t.Errorf("udp service %+v", udp)
	}
	gue := svcs[0].Destinations[2]
	if gue.Forward != Tunnel || gue.TunnelType != TunnelGUE || gue.TunnelPort != 6080 || gue.TunnelFlags != TunnelNoChecksum {
		t.Errorf("gue destination %+v", gue)
	}
	if svcs[1].Netmask != 24 || svcs[1].PE != "sip" || svcs[4].Family != IPv6 || svcs[4].FWMark != 8 {
		t.Errorf("sctp %+v / fwmark %+v", svcs[1], svcs[4])
	}
	var out bytes.Buffer
	if err := Save(&out, svcs); err != nil {
		t.Fatal(err)
	}
	if out.String() != ipvsadmSaved {
		t.Errorf("Save differs from ipvsadm -Sn:\n%s\nwant:\n%s", out.String(), ipvsadmSaved)
	}
}

func TestParseRulesDefaultsAndErrors(t *testing.T) {
	svcs, err := ParseRules(strings.NewReader("-A -t 192.0.2.1:80 -p\n-a -t 192.0.2.1:80 -r 198.51.100.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := svcs[0]
	if s.Scheduler != WeightedLeastConnection || s.Timeout != 300*time.Second {
		t.Errorf("defaults %+v", s)
	}
	d := s.Destinations[0]
	if d.Forward != DirectRoute || d.Weight != 1 || d.Port != 80 {
		t.Errorf("destination defaults %+v", d)
	}
	for _, bad := range []string{
		"-A -t 192.0.2.1:80 -s nope",
		"-A -t 192.0.2.1:0 -s rr",
		"-a -t 192.0.2.1:80 -r 198.51.100.1:80",
		"-A -t example.com:80 -s rr",
		"-A -t 192.0.2.1:80 -s rr -M 255.0.255.0 -p",
		"-A -u [2001:db8::1]:53 -s rr -p -M 200",
		"-A -f 0 -s rr",
		"-D -t 192.0.2.1:80",
		"-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w 70000",
	} {
		if _, err := ParseRules(strings.NewReader(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
