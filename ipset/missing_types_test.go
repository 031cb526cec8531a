package ipset

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
)

// The five set types this machine's kernel lacks (hash:mac, hash:ip,mac,
// hash:ip,mark, hash:net,net, hash:net,port,net) cannot be traced from the
// ipset CLI here: it asks IPSET_CMD_TYPE first and stops when the kernel
// says no. Their entries are made of attributes other types use, so each
// expected encoding is assembled from the attributes the CLI sent for those
// types (testdata/cli_requests.txt); MARK and MARKMASK, which no other type
// uses, follow the same integer rule (network order, NLA_F_NET_BYTEORDER).
// Integration tests for them run in the VM (vm_types_test.go).

// cliEntryAttr returns attribute typ of the entry the CLI sent in fixture
// name.
func cliEntryAttr(t *testing.T, fixtures map[string]fixture, name string, typ uint16) []byte {
	t.Helper()
	fx, ok := fixtures[name]
	if !ok {
		t.Fatalf("no fixture %s", name)
	}
	_, data := topAttrs(t, fx.msg)
	it := attr.NewIter(data)
	for it.Next() {
		if it.Kind() == typ {
			return it.Attr()
		}
	}
	t.Fatalf("fixture %s has no attribute %d", name, typ)
	return nil
}

func TestEncodeMissingTypes(t *testing.T) {
	fixtures := map[string]fixture{}
	for _, fx := range loadFixtures(t) {
		fixtures[fx.name] = fx
	}
	attr := func(name string, typ uint16) []byte { return cliEntryAttr(t, fixtures, name, typ) }
	markAttr, _ := hex.DecodeString("08000a4000000010") // MARK 0x10, network order
	cases := []struct {
		set   Set
		entry string
		want  [][]byte
	}{
		{Set{Name: "m", Type: HashMAC}, "02:00:00:00:00:01",
			[][]byte{attr("add-bitmap-ipmac", attrEther)}},
		{Set{Name: "m", Type: HashIPMAC}, "192.0.2.8,02:00:00:00:00:01",
			[][]byte{attr("add-bitmap-ipmac", attrIP), attr("add-bitmap-ipmac", attrEther)}},
		{Set{Name: "m", Type: HashIPMark}, "192.0.2.1,0x10",
			[][]byte{attr("add-hash-ip", attrIP), markAttr}},
		{Set{Name: "m", Type: HashNetNet, Family: FamilyInet6}, "2001:db8::/64,2001:db8:1::/48",
			[][]byte{attr("add-hash-net", attrIP), attr("add-hash-net", attrCIDR),
				attr("add-hash-ipportnet", attrIP2), attr("add-hash-ipportnet", attrCIDR2)}},
		{Set{Name: "m", Type: HashNetPortNet}, "192.0.2.0/24,sctp:9,198.51.100.1",
			[][]byte{attr("add-hash-netport", attrIP), attr("add-hash-netport", attrCIDR),
				attr("add-hash-netport", attrPort), attr("add-hash-netport", attrProto),
				attr("add-hash-ipportip", attrIP2)}},
		{Set{Name: "m", Type: HashNetNet}, "192.0.2.0-192.0.2.10,198.51.100.1",
			[][]byte{attr("add-hash-ip-range", attrIP), attr("add-hash-ip-range", attrIPTo),
				attr("add-hash-ipportip", attrIP2)}},
	}
	for _, tc := range cases {
		t.Run(string(tc.set.Type)+" "+tc.entry, func(t *testing.T) {
			ti, _ := lookupType(tc.set.Type)
			if tc.set.Family == 0 {
				tc.set.Family = ti.effectiveFamily(0)
			}
			e, err := ParseEntry(&tc.set, tc.entry)
			if err != nil {
				t.Fatal(err)
			}
			var w abuf
			e.appendEntryData(&w, 0, ti.defaultProto())
			want := bytes.Join(tc.want, nil)
			if !bytes.Equal(w.Buf, want) {
				t.Errorf("entry attributes\n got %x\nwant %x", w.Buf, want)
			}
			got, err := unmarshalEntry(w.Buf)
			if err != nil || got.String() != e.String() {
				t.Errorf("decode: %v %q, want %q", err, got.String(), e.String())
			}
		})
	}

	// Create: the command attributes are those of every type; markmask is
	// the only option of its own.
	c := &Conn{protocol: 7}
	s := Set{Name: "mk", Type: HashIPMark, MarkMask: 0xffff, Revision: 1}
	ti, _ := lookupType(s.Type)
	w := c.encodeCreate(&s, ti, 1)
	expect := &abuf{}
	expect.Buf = append(expect.Buf, 2, 0, 0, 0)
	expect.U8(attrProtocol, 7)
	expect.String(attrSetName, "mk")
	expect.String(attrTypeName, "hash:ip,mark")
	expect.U8(attrRevision, 1)
	expect.U8(attrFamily, uint8(FamilyInet))
	d := expect.begin(attrData)
	expect.Buf = append(expect.Buf, 0x08, 0x00, 0x0b, 0x40, 0, 0, 0xff, 0xff) // MARKMASK, network order
	expect.End(d)
	if !bytes.Equal(w.Buf, expect.Buf) {
		t.Errorf("hash:ip,mark create\n got %x\nwant %x", w.Buf, expect.Buf)
	}
	// The same options for a type that exists here are compared with the
	// CLI in TestEncodeMatchesCLI; the top-level layout is shared.
	for _, typ := range []SetType{HashMAC, HashIPMAC, HashIPMark, HashNetNet, HashNetPortNet} {
		if _, ok := lookupType(typ); !ok {
			t.Errorf("%s missing from the type table", typ)
		}
	}
}
