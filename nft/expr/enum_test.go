package expr_test

import (
	"fmt"
	"testing"

	"github.com/nfkit/nfkit/nft/expr"
)

// TestEnumStrings: the typed keys and ops print nft's words, unknown
// values their type and number, flag sets their names.
func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		v    fmt.Stringer
		want string
	}{
		{expr.RtTCPMSS, "mtu"}, {expr.RtKey(9), "RtKey(9)"},
		{expr.ExthdrSCTP, "sctp chunk"}, {expr.ExthdrOp(7), "ExthdrOp(7)"},
		{expr.SocketCgroupv2, "cgroupv2"}, {expr.XfrmReqid, "reqid"}, {expr.XfrmKey(0), "XfrmKey(0)"},
		{expr.XfrmOut, "out"}, {expr.HashSym, "symhash"}, {expr.ByteorderHton, "hton"},
		{expr.QueueBypass | expr.QueueCPUFanout, "bypass,fanout"}, {expr.QueueFlags(0), "0"},
		{expr.OsfTTLNoCheck, "skip"}, {expr.TunnelID, "id"}, {expr.TunnelModeRx, "rx"},
		{expr.InnerGeneve, "geneve"}, {expr.InnerHdrSize | expr.InnerNH, "hdrsize,nh"},
		{expr.SynproxySackPerm | expr.SynproxyTimestamp | 0x40, "sack-perm,timestamp,0x40"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.v, got, c.want)
		}
	}
}
