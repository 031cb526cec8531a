package expr

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

func kernelFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/kernel_rules.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, h, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m[name] = b
	}
	if len(m) < 20 {
		t.Fatalf("only %d fixtures", len(m))
	}
	return m
}

// TestDecoderExact: for every kernel dump fixture, each expression decodes
// and re-encodes to the dumped attributes, and a reused Decoder gives the
// same result as a fresh one.
func TestDecoderExact(t *testing.T) {
	var dc Decoder
	for name, b := range kernelFixtures(t) {
		got, err := dc.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fresh, err := Decode(b)
		if err != nil || len(fresh) != len(got) {
			t.Fatalf("%s: fresh decoder: %v %d vs %d", name, err, len(fresh), len(got))
		}
		enc, err := Encode(got)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		if !SameAttrs(enc, b) {
			t.Errorf("%s: re-encoded\n%x\nwant\n%x", name, enc, b)
		}
	}
}

// TestDecodeDoesNotAlias: values decoded from a buffer survive the buffer
// being overwritten (the codec walks the input in place and copies only
// what it keeps, into a per-call arena).
func TestDecodeDoesNotAlias(t *testing.T) {
	fx := kernelFixtures(t)
	var dc Decoder
	var kept [][]Any
	var want [][]byte
	for _, b := range fx {
		in := bytes.Clone(b)
		got, err := dc.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			in[i] = 0xa5
		}
		kept = append(kept, got)
		want = append(want, b)
	}
	for i, got := range kept {
		enc, err := Encode(got)
		if err != nil || !SameAttrs(enc, want[i]) {
			t.Fatalf("decoded expressions changed after the input was overwritten: %v\n%x\nwant\n%x", err, enc, want[i])
		}
	}
}

func TestDecStrict(t *testing.T) {
	for _, b := range [][]byte{
		{1, 0},                   // short header
		{3, 0, 1, 0},             // length below a header
		{9, 0, 1, 0, 1, 2, 3, 4}, // length past the end
	} {
		if _, err := newDec(b); err == nil {
			t.Errorf("newDec(%x) accepted", b)
		}
	}
	d, err := newDec([]byte{6, 0, 1, 0, 0xab, 0xcd, 0, 0})
	if err != nil || !d.Next() {
		t.Fatal(err)
	}
	if d.U32(); d.Err() == nil {
		t.Error("Uint32 of a 2-byte attribute accepted")
	}
}

func TestEncMatchesNetlinkLayout(t *testing.T) {
	var e enc
	e.U8(1, 7)
	e.U16(2, 0x0102)
	e.String(3, "ab")
	e.Nested(4, func(e *enc) error { e.U32(5, 1); return nil })
	want := []byte{
		5, 0, 1, 0, 7, 0, 0, 0,
		6, 0, 2, 0, 1, 2, 0, 0,
		7, 0, 3, 0, 'a', 'b', 0, 0,
		12, 0, 4, 0x80, 8, 0, 5, 0, 0, 0, 0, 1,
	}
	if !bytes.Equal(e.Buf, want) {
		t.Fatalf("got %x\nwant %x", e.Buf, want)
	}
}
