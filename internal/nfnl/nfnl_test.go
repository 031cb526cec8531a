package nfnl

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{Family: unix.AF_INET6, Version: unix.NFNETLINK_V0, ResourceID: 0x0102}
	b := h.Marshal(nil)
	require.Equal(t, []byte{unix.AF_INET6, 0, 0x01, 0x02}, b)
	got, rest, err := Unmarshal(append(b, 0xaa))
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Equal(t, []byte{0xaa}, rest)
	_, _, err = Unmarshal([]byte{1, 2})
	require.Error(t, err)
}

func TestTypeSplit(t *testing.T) {
	typ := Type(unix.NFNL_SUBSYS_NFTABLES, unix.NFT_MSG_NEWTABLE)
	require.EqualValues(t, 0x0a00, typ)
	s, c := Split(typ)
	require.EqualValues(t, unix.NFNL_SUBSYS_NFTABLES, s)
	require.EqualValues(t, unix.NFT_MSG_NEWTABLE, c)
}

// The bytes below are what nft 1.0.6 sends for BATCH_BEGIN with a
// generation id and for BATCH_END (netlink header excluded).
func TestBatchFraming(t *testing.T) {
	b := BatchBegin(unix.NFNL_SUBSYS_NFTABLES, 7)
	require.EqualValues(t, unix.NFNL_MSG_BATCH_BEGIN, b.Header.Type)
	require.Equal(t, []byte{0, 0, 0, 10, 8, 0, 1, 0, 0, 0, 0, 7}, b.Data)
	b = BatchBegin(unix.NFNL_SUBSYS_NFTABLES, 0)
	require.Equal(t, []byte{0, 0, 0, 10}, b.Data)
	e := BatchEnd(unix.NFNL_SUBSYS_NFTABLES)
	require.EqualValues(t, unix.NFNL_MSG_BATCH_END, e.Header.Type)
	require.Equal(t, []byte{0, 0, 0, 10}, e.Data)
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte{2, 0, 0, 1, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rest, err := Unmarshal(b)
		if err != nil {
			return
		}
		again := append(h.Marshal(nil), rest...)
		require.Equal(t, b, again)
	})
}
