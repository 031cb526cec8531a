//go:build vmtest

package ipset

// Integration tests for the set types this machine's kernel (6.18) lacks:
// hash:mac, hash:ip,mac, hash:ip,mark, hash:net,net, hash:net,port,net.
// They run in the VM runner, against Debian's kernel which has them:
//
//	go build -o /tmp/vmtest ./cmd/vmtest
//	CGO_ENABLED=0 go test -tags vmtest -exec /tmp/vmtest -run 'VM' ./ipset/
//
// They are behind the vmtest build tag because CI runs the normal suite on
// this same kernel, where the types are missing and a skip would be a
// failure under CI=true.

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

var vmScenarios = []struct {
	typ        SetType
	name, text string
}{
	{HashMAC, "hash:mac", `
create hm hash:mac hashsize 64 counters initval 0x21
add hm 02:00:00:00:00:01 packets 1 bytes 2
add hm 02:00:00:00:00:02
`},
	{HashIPMAC, "hash:ip,mac", `
create him hash:ip,mac initval 0x22 timeout 0
add him 192.0.2.1,02:00:00:00:00:01
create him6 hash:ip,mac family inet6 initval 0x23
add him6 2001:db8::1,02:00:00:00:00:02
`},
	{HashIPMark, "hash:ip,mark", `
create hmk hash:ip,mark markmask 0xffff initval 0x24
add hmk 192.0.2.1,0x10
add hmk 192.0.2.2-192.0.2.3,0x20
`},
	{HashNetNet, "hash:net,net", `
create hnn hash:net,net initval 0x25
add hnn 192.0.2.0/24,198.51.100.0/24
add hnn 192.0.2.0/25,198.51.100.0/25 nomatch
add hnn 203.0.113.1,203.0.113.2
`},
	{HashNetPortNet, "hash:net,port,net", `
create hnpn hash:net,port,net initval 0x26 comment
add hnpn 192.0.2.0/24,tcp:80,198.51.100.0/24 comment "web"
add hnpn 192.0.2.1,udp:53,198.51.100.1
`},
}

// requireType detects a kernel without the type (IPSET_CMD_TYPE fails).
// Outside CI that is a skip; in CI, where these tests run in the VM whose
// kernel has every type, it is a failure.
func requireType(t *testing.T, c *Conn, typ SetType) {
	t.Helper()
	if _, _, err := c.Revisions(testCtx(t), typ, FamilyInet); err != nil {
		if errors.Is(err, ErrTypeUnsupported) {
			nstest.Unavailable(t, "kernel has no "+string(typ)+": "+err.Error())
		}
		t.Fatal(err)
	}
}

func TestVMTypesCLIWritesNfkitReads(t *testing.T) {
	for _, sc := range vmScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ns, c := testConn(t)
			requireType(t, c, sc.typ)
			ns.RunInput(t, sc.text, "ipset", "restore")
			want := cliSave(t, ns)
			var buf bytes.Buffer
			if err := c.Save(testCtx(t), &buf, ""); err != nil {
				t.Fatal(err)
			}
			diffLines(t, "save output", normalizeSave(buf.String()), normalizeSave(want))
		})
	}
}

func TestVMTypesNfkitWritesCLIReads(t *testing.T) {
	for _, sc := range vmScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref, rc := testConn(t)
			requireType(t, rc, sc.typ)
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
				if err := c.Add(ctx, s.Set.Name, s.Entries...); err != nil {
					t.Fatal(err)
				}
			}
			diffLines(t, "ipset save output", normalizeSave(cliSave(t, ns)), normalizeSave(want))
		})
	}
}
