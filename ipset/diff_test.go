package ipset

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// Differential tests: the same ipset state, written once by the ipset CLI
// and once by nfkit, must read back the same through both.

// cliScenarios are `ipset restore` inputs, one per set type this kernel
// has (the types it lacks are in vm_types_test.go). Hash sets pin initval
// so that both writers' sets print identically.
var cliScenarios = []struct{ name, text string }{
	{"bitmap:ip", `
create bip bitmap:ip range 192.0.2.0-192.0.2.255 timeout 600 counters comment skbinfo
add bip 192.0.2.1 timeout 0 packets 3 bytes 400 comment "first one" skbmark 0x10/0xff skbprio 1:2 skbqueue 3
add bip 192.0.2.16-192.0.2.19
add bip 192.0.2.32/30 timeout 100
create bipn bitmap:ip range 198.51.100.0/24 netmask 30
add bipn 198.51.100.5
`},
	{"bitmap:ip,mac", `
create bim bitmap:ip,mac range 192.0.2.0/28 timeout 0 counters
add bim 192.0.2.1,02:00:00:00:00:aa packets 1 bytes 2
add bim 192.0.2.2
`},
	{"bitmap:port", `
create bp bitmap:port range 1000-2000 timeout 0 comment
add bp 1000 comment "low"
add bp tcp:1500-1502
add bp udp:1999 timeout 50
`},
	{"hash:ip", `
create hip hash:ip family inet hashsize 64 maxelem 1000 timeout 600 counters comment skbinfo bucketsize 4 initval 0x01020304
add hip 192.0.2.1 timeout 0 packets 5 bytes 6 comment "a b" skbmark 0x1 skbprio 1:2 skbqueue 7
add hip 192.0.2.10-192.0.2.13
add hip 192.0.2.64/30 skbmark 0x5/0xff
create hip6 hash:ip family inet6 netmask 64 initval 0x5
add hip6 2001:db8:1::1
add hip6 2001:db8:2::
create hipb hash:ip bitmask 255.255.0.255 initval 0x6
add hipb 192.0.2.77
`},
	{"hash:net", `
create hn hash:net family inet counters initval 0x7
add hn 192.0.2.0/24
add hn 192.0.2.128/25 nomatch
add hn 198.51.100.0-198.51.100.10
add hn 203.0.113.7
create hn6 hash:net family inet6 initval 0x8 maxelem 100
add hn6 2001:db8::/32
add hn6 2001:db8:1::/48 nomatch
`},
	{"hash:ip,port", `
create hipp hash:ip,port initval 0x9 timeout 0
add hipp 192.0.2.1,tcp:80
add hipp 192.0.2.1,udp:53-54
add hipp 192.0.2.2,icmp:echo-request
add hipp 192.0.2.2,icmp:3/8
add hipp 192.0.2.3,sctp:9 timeout 100
add hipp 192.0.2.4,gre:0
add hipp 192.0.2.5-192.0.2.6,tcp:22
create hipp6 hash:ip,port family inet6 initval 0xa
add hipp6 2001:db8::1,icmpv6:echo-request
add hipp6 2001:db8::1,udp:53
create hippb hash:ip,port bitmask 255.255.255.0 initval 0xb
add hippb 192.0.2.9,tcp:1
`},
	{"hash:net,port", `
create hnp hash:net,port initval 0xc counters
add hnp 192.0.2.0/24,tcp:1
add hnp 192.0.2.1,tcp:2
add hnp 192.0.2.0/30,udp:3 nomatch
`},
	{"hash:ip,port,ip", `
create hippi hash:ip,port,ip initval 0xd comment
add hippi 192.0.2.1,tcp:22,198.51.100.1 comment "ssh"
create hippi6 hash:ip,port,ip family inet6 initval 0xe
add hippi6 2001:db8::1,udp:5,2001:db8::2
`},
	{"hash:ip,port,net", `
create hippn hash:ip,port,net initval 0xf
add hippn 192.0.2.1,udp:5,198.51.100.0/24
add hippn 192.0.2.1,udp:5,198.51.100.1
add hippn 192.0.2.2,tcp:6,198.51.100.128/25 nomatch
`},
	{"hash:net,iface", `
create hni hash:net,iface initval 0x10 skbinfo
add hni 192.0.2.0/24,physdev:eth0
add hni 192.0.2.0/24,eth0 nomatch
add hni 198.51.100.0/24,ab*
add hni 203.0.113.1,eth2 skbqueue 4
`},
	{"list:set", `
create m1 hash:ip initval 0x11
create m2 hash:net initval 0x12
create m3 hash:ip initval 0x13
create ls list:set size 8 timeout 0 counters comment
add ls m1 comment "one"
add ls m2 before m1
add ls m3 after m1 timeout 100
`},
}

var remaining = regexp.MustCompile(` timeout [1-9][0-9]*`)

// normalizeSave makes two saves of the same state comparable: remaining
// timeouts tick, and hash sets list in hash order (list:set order is kept:
// it is meaningful).
func normalizeSave(s string) []string {
	var out, adds []string
	sortAdds := true
	flush := func() {
		if sortAdds {
			sortStrings(adds)
		}
		out = append(out, adds...)
		adds = nil
	}
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.HasPrefix(l, "add ") {
			adds = append(adds, remaining.ReplaceAllString(l, " timeout T"))
			continue
		}
		flush()
		sortAdds = !strings.Contains(l, " list:set ")
		out = append(out, l)
	}
	flush()
	return out
}

func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s differ\n--- nfkit\n%s\n--- ipset CLI\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCLIWritesNfkitReads: the CLI restores, nfkit lists; nfkit's save
// text must equal `ipset save`, and parsing the CLI's text must give the
// entries nfkit decoded from the kernel.
func TestCLIWritesNfkitReads(t *testing.T) {
	for _, sc := range cliScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ns, c := testConn(t)
			ctx := testCtx(t)
			ns.RunInput(t, sc.text, "ipset", "restore")
			want := cliSave(t, ns)
			var buf bytes.Buffer
			if err := c.Save(ctx, &buf, ""); err != nil {
				t.Fatal(err)
			}
			diffLines(t, "save output", normalizeSave(buf.String()), normalizeSave(want))

			// The typed view: ParseSave of the CLI's text equals List.
			parsed, err := ParseSave(strings.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			listed, err := c.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed) != len(listed) {
				t.Fatalf("%d sets parsed, %d listed", len(parsed), len(listed))
			}
			for i := range parsed {
				p, l := parsed[i], listed[i]
				if p.Set.Name != l.Set.Name || p.Set.Type != l.Set.Type || len(p.Entries) != len(l.Entries) {
					t.Fatalf("set %d: parsed %s %s (%d entries), listed %s %s (%d entries)", i,
						p.Set.Name, p.Set.Type, len(p.Entries), l.Set.Name, l.Set.Type, len(l.Entries))
				}
				if l.Set.Entries != uint32(len(l.Entries)) {
					t.Errorf("set %s: header says %d entries, listed %d", l.Set.Name, l.Set.Entries, len(l.Entries))
				}
			}
		})
	}
}

// TestNfkitWritesCLIReads: nfkit creates and fills through the typed API
// (Create, Add) what the CLI restores from the same text; `ipset save` of
// both namespaces must be equal.
func TestNfkitWritesCLIReads(t *testing.T) {
	for _, sc := range cliScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref, _ := testConn(t)
			ref.RunInput(t, sc.text, "ipset", "restore")
			want := cliSave(t, ref)

			ns, c := testConn(t)
			ctx := testCtx(t)
			sets, err := ParseSave(strings.NewReader(sc.text))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sets {
				if err := c.Create(ctx, s.Set); err != nil {
					t.Fatal(err)
				}
				if len(s.Entries) > 0 {
					if err := c.Add(ctx, s.Set.Name, s.Entries...); err != nil {
						t.Fatal(err)
					}
				}
			}
			diffLines(t, "ipset save output", normalizeSave(cliSave(t, ns)), normalizeSave(want))
		})
	}
}
