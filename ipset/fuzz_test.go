package ipset

import (
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"
)

// encodeListMsg is the inverse of decodeListMsg, for the fuzzers.
func encodeListMsg(m listMsg) []byte {
	var w abuf
	w.String(attrSetName, m.name)
	if m.header {
		w.String(attrTypeName, string(m.set.Type))
		w.U8(attrRevision, m.set.Revision)
		w.U8(attrFamily, uint8(m.set.Family))
		m.set.appendCreateData(&w, true)
	}
	if m.adt != nil {
		off := w.begin(attrADT)
		_ = forEachEntry(m.adt, func(e Entry) bool {
			d := w.begin(attrData)
			e.appendEntryData(&w, 0, 0)
			w.End(d)
			return true
		})
		w.End(off)
	}
	return w.Buf
}

func decodedEntries(m listMsg) ([]Entry, error) {
	var out []Entry
	err := forEachEntry(m.adt, func(e Entry) bool { out = append(out, e); return true })
	return out, err
}

// seedListMsgs seeds with a listing nfkit encodes and with the ipset
// CLI's requests (same attribute layout: name, type, revision, family,
// create data, entries).
func seedListMsgs(f *testing.F) {
	s := Set{Name: "s", Type: HashIPPort, Family: FamilyInet6, HashSize: 64, Timeout: 5e9, Counters: true, Comment: true}
	var w abuf
	off := w.begin(attrADT)
	d := w.begin(attrData)
	(&Entry{Addr: mustAddr("2001:db8::1"), Proto: 6, Port: 80, Comment: "c", TimeoutSet: true}).appendEntryData(&w, 0, 0)
	w.End(d)
	w.End(off)
	f.Add(append(encodeListMsg(listMsg{name: "s", header: true, set: s}), w.Buf...))
	data, err := os.ReadFile("testdata/cli_requests.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		parts := strings.Split(l, "|")
		if b, err := hex.DecodeString(parts[len(parts)-1]); err == nil && len(b) > 20 {
			f.Add(b[20:])
		}
	}
}

func FuzzDecodeListMsg(f *testing.F) {
	seedListMsgs(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeListMsg(b)
		if err != nil {
			return
		}
		first, err := decodedEntries(m)
		if err != nil {
			return
		}
		b2 := encodeListMsg(m)
		m2, err := decodeListMsg(b2)
		if err != nil {
			t.Fatalf("re-decode: %v\n%x", err, b2)
		}
		if !setEqual(m.set, m2.set) || !bytes.Equal(m.set.Raw, m2.set.Raw) || m.header != m2.header {
			t.Fatalf("set changed:\n%+v\n%+v", m.set, m2.set)
		}
		second, err := decodedEntries(m2)
		if err != nil {
			t.Fatalf("entries decoded once do not decode again: %v", err)
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("entries changed:\n%+v\n%+v", first, second)
		}
	})
}

func FuzzUnmarshalEntry(f *testing.F) {
	for _, e := range []Entry{
		{Prefix: mustPrefix("192.0.2.0/24"), NoMatch: true, Comment: "x", Packets: 1, Bytes: 2, TimeoutSet: true},
		{Set: "a", Before: "b"},
		{Iface: "eth0", Physdev: true, SkbMark: 1, SkbMarkMask: 3, SkbPrio: 4, SkbQueue: 5},
		{Addr: mustAddr("2001:db8::1"), Proto: 58, Port: 0x8000, Prefix2: mustPrefix("2001:db8::/32")},
	} {
		var w abuf
		e.appendEntryData(&w, 3, 0)
		f.Add(w.Buf)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := unmarshalEntry(b)
		if err != nil {
			return
		}
		var w abuf
		e.appendEntryData(&w, 0, 0)
		e2, err := unmarshalEntry(w.Buf)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("changed:\n%+v\n%+v", e, e2)
		}
		_ = e.String()
	})
}

func FuzzParseSave(f *testing.F) {
	for _, sc := range cliScenarios {
		f.Add(sc.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sets, err := ParseSave(strings.NewReader(text))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteSave(&buf, sets); err != nil {
			t.Fatal(err)
		}
		again, err := ParseSave(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%s", err, buf.String())
		}
		var buf2 bytes.Buffer
		_ = WriteSave(&buf2, again)
		if buf.String() != buf2.String() {
			t.Fatalf("unstable:\n%s\n---\n%s", buf.String(), buf2.String())
		}
	})
}
