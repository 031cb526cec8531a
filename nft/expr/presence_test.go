package expr_test

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/nft/expr"
)

// nla builds one attribute (no padding needed for the 4- and 8-byte
// payloads used here; shorter ones are padded).
func nla(typ uint16, payload ...byte) []byte {
	l := 4 + len(payload)
	b := []byte{byte(l), byte(l >> 8), byte(typ), byte(typ >> 8)}
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestOptionalAttrPresence: an optional attribute that nft leaves out
// but the kernel dumps (queue flags), or that nft sends but the kernel
// does not dump (reject code with a tcp reset), decodes typed in both
// forms, remembers which form it came in, and re-encodes to it.
func TestOptionalAttrPresence(t *testing.T) {
	num7 := nla(unix.NFTA_QUEUE_NUM, 0, 7)
	total1 := nla(unix.NFTA_QUEUE_TOTAL, 0, 1)
	rst := nla(unix.NFTA_REJECT_TYPE, 0, 0, 0, unix.NFT_REJECT_TCP_RST)
	cases := []struct {
		name string
		data []byte
		want expr.Any
	}{
		{"queue request (nft: no flags)", cat(num7, total1), &expr.Queue{Num: 7, Total: 1, OmitFlags: true}},
		{"queue dump (kernel: flags 0)", cat(num7, total1, nla(unix.NFTA_QUEUE_FLAGS, 0, 0)), &expr.Queue{Num: 7, Total: 1}},
		{"reject tcp reset dump (kernel: no code)", rst, &expr.Reject{Type: expr.RejectTCPReset}},
		{"reject tcp reset request (nft: code 0)", cat(rst, nla(unix.NFTA_REJECT_ICMP_CODE, 0)), &expr.Reject{Type: expr.RejectTCPReset, CodeWithReset: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := expr.DecodeData(c.want.Name(), c.data)
			require.Equal(t, c.want, got)
			enc, err := expr.EncodeData(got)
			require.NoError(t, err)
			require.Equal(t, hex.Dump(c.data), hex.Dump(enc))
		})
	}
	for _, bad := range []expr.Any{
		&expr.Queue{Num: 1, Total: 1, Flags: expr.QueueBypass, OmitFlags: true},
		&expr.Reject{Type: expr.RejectTCPReset, Code: 3},
		&expr.Reject{Type: expr.RejectICMPUnreach, CodeWithReset: true},
	} {
		_, err := expr.EncodeData(bad)
		require.ErrorIs(t, err, expr.ErrInvalid, "%#v", bad)
	}
}
