package nft

import (
	"bytes"
	"os"
	"testing"

	"github.com/nfkit/nfkit/internal/attr"
)

// Seeds: attribute bytes of objects the kernel dumped for testdata rulesets
// (captured by TestCaptureFuzzSeeds into testdata/fuzz-seeds, when present)
// plus hand-made edge cases.
func addSeeds(f *testing.F, kind string) {
	f.Add([]byte{})
	f.Add([]byte{4, 0, 1, 0})
	f.Add([]byte{8, 0, 1, 0, 't', 0, 0, 0})
	if b, err := os.ReadFile("testdata/seed-" + kind + ".bin"); err == nil {
		for _, s := range bytes.Split(b, []byte("\n--\n")) {
			f.Add(s)
		}
	}
}

// roundTrip checks decode → encode → decode → encode is stable.
func roundTrip(t *testing.T, b []byte, dec func([]byte) (func(*attr.Writer) error, error)) {
	m1, err := dec(b)
	if err != nil {
		return
	}
	var e1 attr.Writer
	if err := m1(&e1); err != nil {
		return
	}
	m2, err := dec(e1.Buf)
	if err != nil {
		t.Fatalf("re-decode of encoded bytes failed: %v\n%x", err, e1.Buf)
	}
	var e2 attr.Writer
	if err := m2(&e2); err != nil {
		t.Fatalf("re-encode failed: %v", err)
	}
	if !bytes.Equal(e1.Buf, e2.Buf) {
		t.Fatalf("unstable:\n%x\n%x", e1.Buf, e2.Buf)
	}
}

func FuzzTable(f *testing.F) {
	addSeeds(f, "table")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Table
			err := x.unmarshal(FamilyINet, b)
			return func(e *attr.Writer) error { return x.marshal(e, true) }, err
		})
	})
}

func FuzzChain(f *testing.F) {
	addSeeds(f, "chain")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Chain
			err := x.unmarshal(FamilyINet, b)
			return func(e *attr.Writer) error { return x.marshal(e, true) }, err
		})
	})
}

func FuzzRule(f *testing.F) {
	addSeeds(f, "rule")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Rule
			err := x.unmarshal(FamilyINet, b, false)
			return func(e *attr.Writer) error { return x.marshal(e, true) }, err
		})
	})
}

func FuzzSet(f *testing.F) {
	addSeeds(f, "set")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Set
			err := x.unmarshal(FamilyINet, b)
			return func(e *attr.Writer) error { return x.marshal(e, true) }, err
		})
	})
}

func FuzzElement(f *testing.F) {
	addSeeds(f, "element")
	sets := []*Set{
		{KeyType: []DataType{TypeIPv4Addr}, Flags: SetInterval},
		{KeyType: []DataType{TypeIPv4Addr, TypeInetService}, DataType: TypeVerdict, Flags: SetMap},
		{KeyType: []DataType{TypeIfname}, DataType: TypeMark, Flags: SetMap},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range sets {
			el, err := s.unmarshalElem(b)
			if err != nil {
				continue
			}
			// typed values must re-encode to the bytes they came from
			if el.keyRaw != nil && len(s.KeyType) == 1 && uint32(len(el.keyRaw)) == s.KeyType[0].Len {
				got, err := encodeValue(s.KeyType[0], el.Key)
				if err == nil && !bytes.Equal(got, el.keyRaw) {
					t.Fatalf("key %v: %x != %x", el.Key, got, el.keyRaw)
				}
			}
		}
		_ = foldIntervals(sets[0], []Element{{keyRaw: b}, {keyRaw: b, IntervalEnd: true}})
	})
}

func FuzzGen(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = decodeGen(FamilyUnspec, b) })
}

func FuzzUdata(f *testing.F) {
	f.Add([]byte{0, 2, 'x', 0}, "y")
	f.Fuzz(func(t *testing.T, b []byte, comment string) {
		out, err := udataWithComment(b, 0, comment)
		if err != nil {
			return
		}
		if got := udataComment(out, 0); comment != "" && indexNUL([]byte(comment)) < 0 && got != comment {
			t.Fatalf("comment %q read back as %q from %x", comment, got, out)
		}
	})
}

func FuzzObject(f *testing.F) {
	addSeeds(f, "object")
	f.Add([]byte("\x06\x00\x01\x00t\x00\x00\x00\x06\x00\x02\x00q\x00\x00\x00\x08\x00\x03\x00\x00\x00\x00\x02\x24\x00\x04\x00\x0c\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03\xe8\x0c\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x02\x00\x00\x00\x00\x01"))
	for _, o := range typedObjects { // every typed object type, dump form
		var e attr.Writer
		if err := o.marshal(&e, true); err == nil {
			f.Add(e.Buf)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (func(*attr.Writer) error, error) {
			var x Object
			err := x.unmarshal(FamilyINet, b)
			return func(e *attr.Writer) error { return x.marshal(e, true) }, err
		})
	})
}
