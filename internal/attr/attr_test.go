package attr

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"} {
		a := netip.MustParseAddr(s)
		got, err := Addr(AddrBytes(a))
		require.NoError(t, err)
		require.Equal(t, a, got)
	}
	_, err := Addr([]byte{1, 2, 3})
	require.ErrorContains(t, err, "3 bytes")
}

func TestEncoderIsBigEndian(t *testing.T) {
	ae := NewEncoder()
	ae.Uint32(1, 0x01020304)
	b, err := ae.Encode()
	require.NoError(t, err)
	require.Equal(t, []byte{8, 0, 1, 0, 1, 2, 3, 4}, b)
	ad, err := NewDecoder(b)
	require.NoError(t, err)
	require.True(t, ad.Next())
	require.Equal(t, uint32(0x01020304), ad.Uint32())
}

func TestCString(t *testing.T) {
	require.Equal(t, "abc", CString([]byte("abc\x00junk")))
	require.Equal(t, "abc", CString([]byte("abc")))
	require.Equal(t, []byte{0, 1}, Port(1))
}

func FuzzAddr(f *testing.F) {
	f.Add([]byte{192, 0, 2, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Addr(b)
		if err == nil {
			require.Equal(t, b, AddrBytes(a))
		}
	})
}
