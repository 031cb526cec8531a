package nft

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
)

// readHexFixtures reads "name hex [-- comment]" lines.
func readHexFixtures(t testing.TB, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		b, err := hex.DecodeString(fields[1])
		if err != nil {
			t.Fatalf("%s: %s: %v", path, fields[0], err)
		}
		m[fields[0]] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// batchAttrs returns the attributes (after the nfgenmsg header) of each
// message the batch would send.
func batchAttrs(t *testing.T, b *Batch) [][]byte {
	t.Helper()
	msgs, _, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.Data[nfnl.HeaderLen:])
	}
	return out
}

// TestFlowtableRequestBytes: our NEWFLOWTABLE/DELFLOWTABLE attributes are
// byte for byte what nft sends for the same command.
func TestFlowtableRequestBytes(t *testing.T) {
	fx := readHexFixtures(t, "testdata/flowtable_requests.txt")
	cases := []struct {
		name string
		add  func(b *Batch)
	}{
		{"add-one", func(b *Batch) {
			b.AddFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Priority: -5, Devices: []string{"v0"}})
		}},
		{"add-counter", func(b *Batch) {
			// nft sends the devices in reverse order of the command.
			b.AddFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Priority: 10,
				Devices: []string{"v1", "v0"}, Flags: FlowtableCounter})
		}},
		{"add-offload", func(b *Batch) {
			b.CreateFlowtable(&Flowtable{Family: FamilyIPv4, Table: "t", Name: "f2", Devices: []string{"v1"}, Flags: FlowtableHWOffload})
		}},
		{"add-ip6", func(b *Batch) {
			b.AddFlowtable(&Flowtable{Family: FamilyIPv6, Table: "t", Name: "f3", Priority: 100, Devices: []string{"v0"}})
		}},
		{"delete", func(b *Batch) { b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft"}) }},
		{"delete-handle", func(b *Batch) { b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Handle: 7}) }},
		{"delete-devices", func(b *Batch) {
			b.DeleteFlowtable(&Flowtable{Family: FamilyINet, Table: "t", Name: "ft", Devices: []string{"v0"}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := fx[tc.name]
			if !ok {
				t.Fatalf("no fixture %q", tc.name)
			}
			b := (&Conn{}).NewBatch()
			tc.add(b)
			got := batchAttrs(t, b)
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
		})
	}
}

// flowtableDump is what a kernel dumps for a flowtable (6.x order: table,
// name, handle, use, flags, hook without NLA_F_NESTED).
func flowtableDump() []byte {
	var e attr.Writer
	e.String(attrFlowtableTable, "t")
	e.String(attrFlowtableName, "ft")
	e.U64(attrFlowtableHandle, 3)
	e.U32(attrFlowtableUse, 1)
	e.U32(attrFlowtableFlags, 2)
	h := e.Begin(attrFlowtableHook)
	e.U32(attrFlowtableHookNum, 0)
	e.U32(attrFlowtableHookPriority, uint32(0xfffffffb))
	d := e.Begin(attrFlowtableHookDevs)
	e.String(attrDeviceName, "v0")
	e.String(attrDeviceName, "v1")
	e.End(d)
	e.End(h)
	return e.Buf
}

func TestFlowtableDecodeLossless(t *testing.T) {
	dump := flowtableDump()
	// An older kernel's order (use before handle, no flags) and an
	// attribute from the future must survive too.
	var old attr.Writer
	old.String(attrFlowtableTable, "t")
	old.String(attrFlowtableName, "ft")
	old.U32(attrFlowtableUse, 0)
	old.U64(attrFlowtableHandle, 9)
	old.Bytes(99, []byte{1, 2, 3, 4})
	for _, b := range [][]byte{dump, old.Buf} {
		var f Flowtable
		if err := f.unmarshal(FamilyINet, b); err != nil {
			t.Fatal(err)
		}
		var e attr.Writer
		f.marshal(&e, true)
		if !bytes.Equal(e.Buf, b) {
			t.Errorf("re-encoded differs at %d\n got %x\nwant %x", firstDiff(e.Buf, b), e.Buf, b)
		}
	}
	var f Flowtable
	if err := f.unmarshal(FamilyINet, dump); err != nil {
		t.Fatal(err)
	}
	if f.Table != "t" || f.Name != "ft" || f.Handle != 3 || f.Use != 1 || f.Flags != FlowtableCounter ||
		f.Priority != -5 || strings.Join(f.Devices, ",") != "v0,v1" {
		t.Errorf("decoded %+v", f)
	}
}

func TestFlowtableValidation(t *testing.T) {
	for _, f := range []*Flowtable{
		{Family: FamilyNetdev, Table: "t", Name: "ft", Devices: []string{"v0"}},
		{Family: FamilyINet, Table: "", Name: "ft"},
		{Family: FamilyINet, Table: "t", Name: "ft", Devices: []string{"a-name-longer-than-15"}},
		{Family: FamilyINet, Table: "t", Name: "ft", Devices: []string{"v0", "v0"}},
		{Family: FamilyINet, Table: "t", Name: "ft", Flags: 0x10},
	} {
		b := (&Conn{}).NewBatch()
		b.AddFlowtable(f)
		if _, _, err := b.build(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", f, err)
		}
	}
}

func FuzzFlowtable(f *testing.F) {
	addSeeds(f, "flowtable")
	f.Add(flowtableDump())
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Flowtable
			err := x.unmarshal(FamilyINet, b)
			return func(e *attr.Writer) error { x.marshal(e, true); return nil }, err
		})
	})
}
