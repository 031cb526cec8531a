package attr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/stretchr/testify/require"
)

// sample is a nest of integers and a string followed by a flagged
// integer, written by hand in the kernel's layout (host-order headers).
func sample() []byte {
	var w Writer
	n := w.Begin(1 | Nested)
	w.U8(1, 0xab)
	w.U16(2, 0x0102)
	w.U32(3, 0x01020304)
	w.U64(4, 0x0102030405060708)
	w.String(5, "eth0")
	w.End(n)
	w.U32(2|NetByteOrder, 7)
	w.Bytes(3, []byte{9, 9, 9})
	return w.Buf
}

func TestWriterBytes(t *testing.T) {
	h := func(l, typ uint16) []byte {
		return binary.NativeEndian.AppendUint16(binary.NativeEndian.AppendUint16(nil, l), typ)
	}
	var want []byte
	want = append(want, h(4+8+8+8+12+12, 1|Nested)...)
	want = append(append(want, h(5, 1)...), 0xab, 0, 0, 0)
	want = append(append(want, h(6, 2)...), 1, 2, 0, 0)
	want = append(append(want, h(8, 3)...), 1, 2, 3, 4)
	want = append(append(want, h(12, 4)...), 1, 2, 3, 4, 5, 6, 7, 8)
	want = append(append(want, h(9, 5)...), 'e', 't', 'h', '0', 0, 0, 0, 0)
	want = append(append(want, h(8, 2|NetByteOrder)...), 0, 0, 0, 7)
	want = append(append(want, h(7, 3)...), 9, 9, 9, 0)
	require.Equal(t, want, sample())
}

// TestWriterMatchesMdlayher: the bytes equal mdlayher's big-endian
// encoder's (the encoder nfkit used before), host-order integers its
// native-endian encoder's.
func TestWriterMatchesMdlayher(t *testing.T) {
	for _, host := range []bool{false, true} {
		ae := NewEncoder()
		var w Writer
		if host {
			ae.ByteOrder = binary.NativeEndian
		}
		ae.Nested(1, func(n *netlink.AttributeEncoder) error {
			n.Uint8(1, 200)
			n.Uint16(2, 0xbeef)
			n.Uint32(3, 0xdeadbeef)
			n.Uint64(4, 1<<60+5)
			n.String(5, "hello")
			n.Bytes(6, []byte{1, 2, 3, 4, 5})
			return nil
		})
		o := w.Begin(1 | Nested)
		w.U8(1, 200)
		if host {
			w.U16Host(2, 0xbeef)
			w.U32Host(3, 0xdeadbeef)
			w.U64Host(4, 1<<60+5)
		} else {
			w.U16(2, 0xbeef)
			w.U32(3, 0xdeadbeef)
			w.U64(4, 1<<60+5)
		}
		w.String(5, "hello")
		w.Bytes(6, []byte{1, 2, 3, 4, 5})
		w.End(o)
		want, err := ae.Encode()
		require.NoError(t, err)
		require.Equal(t, want, w.Buf, "host order %v", host)
		require.NoError(t, w.Err())
	}
}

func TestWriterNestWithoutFlag(t *testing.T) {
	var w Writer
	w.Buf = []byte{0xff, 0xff, 0xff, 0xff} // a message header before the attributes
	o := w.Begin(7)
	w.U32(1, 1)
	w.End(o)
	require.Equal(t, []byte{0xff, 0xff, 0xff, 0xff, 12, 0, 7, 0, 8, 0, 1, 0, 0, 0, 0, 1}, w.Buf)
}

func TestWriterOverflow(t *testing.T) {
	var w Writer
	w.Bytes(1, make([]byte, 70000))
	require.Error(t, w.Err())
	require.Empty(t, w.Buf, "an oversized attribute is not written")

	w = Writer{}
	w.String(1, string(make([]byte, 65531)))
	require.Error(t, w.Err())

	w = Writer{}
	o := w.Begin(1)
	for range 3 {
		w.Bytes(2, make([]byte, 30000))
	}
	w.End(o)
	require.ErrorContains(t, w.Err(), "nested")

	w = Writer{}
	w.Bytes(1, make([]byte, 65531)) // the largest that fits
	require.NoError(t, w.Err())
	require.Equal(t, uint16(65535), binary.NativeEndian.Uint16(w.Buf))
}

func TestIterReads(t *testing.T) {
	it := NewIter(sample())
	require.True(t, it.Next())
	require.Equal(t, uint16(1|Nested), it.Type())
	require.Equal(t, uint16(1), it.Kind())
	n := it.Nested()
	var got []any
	for n.Next() {
		switch n.Kind() {
		case 1:
			got = append(got, n.U8())
		case 2:
			got = append(got, n.U16())
		case 3:
			got = append(got, n.U32())
		case 4:
			got = append(got, n.U64())
		case 5:
			got = append(got, n.String(), CString(n.Data()))
		}
	}
	it.Join(&n)
	require.NoError(t, it.Err())
	require.Equal(t, []any{uint8(0xab), uint16(0x0102), uint32(0x01020304), uint64(0x0102030405060708), "eth0", "eth0"}, got)

	require.True(t, it.Next())
	require.Equal(t, uint16(2|NetByteOrder), it.Type())
	require.Equal(t, uint16(2), it.Kind())
	require.Equal(t, uint32(7), it.U32())
	require.Equal(t, 4, it.Len())
	require.True(t, it.Next())
	require.Equal(t, []byte{9, 9, 9}, it.Data())
	require.Equal(t, 3, cap(it.Data()), "Data's capacity ends at the payload")
	require.Equal(t, []byte{7, 0, 3, 0, 9, 9, 9, 0}, it.Attr())
	require.False(t, it.Next())
	require.NoError(t, it.Err())
}

func TestIterHostOrder(t *testing.T) {
	var w Writer
	w.U16Host(1, 0x1234)
	w.U32Host(2, 0x12345678)
	w.U64Host(3, 0x123456789abcdef0)
	it := NewIter(w.Buf)
	require.True(t, it.Next())
	require.Equal(t, uint16(0x1234), it.U16Host())
	require.True(t, it.Next())
	require.Equal(t, uint32(0x12345678), it.U32Host())
	require.True(t, it.Next())
	require.Equal(t, uint64(0x123456789abcdef0), it.U64Host())
	require.False(t, it.Next())
	require.NoError(t, it.Err())
}

func TestIterWrongSize(t *testing.T) {
	var w Writer
	w.U16(1, 5)
	w.U32(2, 6)
	for _, read := range []func(*Iter){
		func(it *Iter) { it.U8() }, func(it *Iter) { it.U32() }, func(it *Iter) { it.U64() },
		func(it *Iter) { it.U32Host() }, func(it *Iter) { it.U64Host() },
	} {
		it := NewIter(w.Buf)
		require.True(t, it.Next())
		read(&it)
		require.ErrorIs(t, it.Err(), ErrMalformed)
		require.ErrorContains(t, it.Err(), "attribute 1 has 2 bytes")
		require.False(t, it.Next(), "an error ends the walk")
	}
	it := NewIter(w.Buf)
	require.True(t, it.Next())
	require.Equal(t, uint32(0), it.U32Host())
	it.Fail(errors.New("second")) // the first error is kept
	require.ErrorContains(t, it.Err(), "2 bytes")
}

func TestIterMalformed(t *testing.T) {
	good := []byte{8, 0, 1, 0, 1, 2, 3, 4}
	for name, b := range map[string][]byte{
		"short trailer":   append(append([]byte{}, good...), 1, 2),
		"length below 4":  append(append([]byte{}, good...), 3, 0, 1, 0),
		"length past end": append(append([]byte{}, good...), 9, 0, 1, 0, 1, 2, 3, 4),
	} {
		it := NewIter(b)
		require.True(t, it.Next(), name)
		require.False(t, it.Next(), name)
		require.ErrorIs(t, it.Err(), ErrMalformed, name)
		require.ErrorIs(t, Validate(b), ErrMalformed, name)
		require.ErrorIs(t, Walk(b, func(uint16, []byte) error { return nil }), ErrMalformed, name)
	}
	// The last attribute may come unpadded.
	it := NewIter([]byte{5, 0, 1, 0, 7})
	require.True(t, it.Next())
	require.Equal(t, uint8(7), it.U8())
	require.Equal(t, []byte{5, 0, 1, 0, 7}, it.Attr())
	require.False(t, it.Next())
	require.NoError(t, it.Err())

	// A nest's error reaches the parent through Join only.
	var w Writer
	o := w.Begin(1)
	w.Buf = append(w.Buf, 1, 2) // a nest holding two stray bytes
	w.End(o)
	it = NewIter(w.Buf)
	require.True(t, it.Next())
	n := it.Nested()
	require.False(t, n.Next())
	require.Error(t, n.Err())
	require.NoError(t, it.Err())
	it.Join(&n)
	require.ErrorIs(t, it.Err(), ErrMalformed)
}

func TestWalk(t *testing.T) {
	var types []uint16
	require.NoError(t, Walk(sample(), func(typ uint16, d []byte) error {
		types = append(types, typ)
		return nil
	}))
	require.Equal(t, []uint16{1 | Nested, 2 | NetByteOrder, 3}, types)
	stop := errors.New("stop")
	require.Equal(t, stop, Walk(sample(), func(uint16, []byte) error { return stop }))
}

// TestIterAllocs: walking, nests and integer reads allocate nothing.
func TestIterAllocs(t *testing.T) {
	b := sample()
	var sum uint64
	n := testing.AllocsPerRun(100, func() {
		it := NewIter(b)
		for it.Next() {
			if it.Type()&Nested != 0 {
				c := it.Nested()
				for c.Next() {
					if c.Kind() == 3 {
						sum += uint64(c.U32())
					}
				}
				it.Join(&c)
			}
		}
	})
	require.Zero(t, n)
	require.NotZero(t, sum)
	var w Writer
	w.Buf = make([]byte, 0, 256)
	n = testing.AllocsPerRun(100, func() {
		w.Buf = w.Buf[:0]
		o := w.Begin(1 | Nested)
		w.U32(1, 2)
		w.String(2, "abc")
		w.Bytes(3, b[:5])
		w.End(o)
	})
	require.Zero(t, n)
}

type flat struct {
	typ  uint16
	data []byte
}

func decodeAll(t *testing.T, b []byte, depth int) ([]flat, error) {
	var out []flat
	it := NewIter(b)
	for it.Next() {
		out = append(out, flat{it.Type(), it.Data()})
		require.Equal(t, it.Len(), len(it.Data()))
		require.LessOrEqual(t, len(it.Attr())-4-it.Len(), 3)
		if depth < 4 {
			n := it.Nested()
			_, _ = decodeAll(t, n.b, depth+1) // never panics; errors are fine
		}
		_, _, _, _ = it.U8(), it.U16Host(), it.U32(), it.U64() // at most one matches
		_ = it.String()
	}
	return out, it.Err()
}

// FuzzIter: no input makes the walker panic; a stream it accepts
// re-encodes (types with flags, payloads) to one that decodes to the same
// attributes, and encodes again to the same bytes.
func FuzzIter(f *testing.F) {
	f.Add(sample())
	f.Add([]byte{5, 0, 1, 0, 7})
	f.Add([]byte{8, 0, 1, 0, 1, 2, 3})
	f.Add([]byte{4, 0, 0, 0x80, 4, 0, 1, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		first, err := decodeAll(t, b, 0)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		var w Writer
		for _, a := range first {
			w.Bytes(a.typ, a.data)
		}
		require.NoError(t, w.Err())
		second, err := decodeAll(t, w.Buf, 0)
		require.NoError(t, err)
		require.Equal(t, len(first), len(second))
		for i := range first {
			require.Equal(t, first[i].typ, second[i].typ)
			require.True(t, bytes.Equal(first[i].data, second[i].data))
		}
		var w2 Writer
		for _, a := range second {
			w2.Bytes(a.typ, a.data)
		}
		require.Equal(t, w.Buf, w2.Buf)
	})
}
