package expr_test

import (
	"encoding/hex"
	"testing"

	"github.com/nfkit/nfkit/nft/expr"
)

// TestDecodeAllocs: decoding a rule with a reused Decoder costs the
// result slice, the value arena and one allocation per expression (the
// expression itself). The expressions converted from closure field tables
// (hash, rt, exthdr, socket, ...) used to allocate their field table and
// closures on every decode and on the exactness re-encode; nat and dup
// built two register field names per validation.
func TestDecodeAllocs(t *testing.T) {
	fx := readFixtures(t)
	for _, name := range []string{"jhash", "symhash", "rt-mtu", "exthdr-tcpopt", "exthdr-sctp", "connlimit",
		"socket", "synproxy", "tproxy", "xfrm", "dup", "fwd", "osf-name", "snat-range"} {
		b, err := hex.DecodeString(fx[name])
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: no fixture", name)
		}
		var d expr.Decoder
		got, err := d.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if _, raw := e.(*expr.Raw); raw {
				t.Fatalf("%s: %s stayed Raw", name, e.Name())
			}
		}
		n := testing.AllocsPerRun(50, func() { _, _ = d.Decode(b) })
		if limit := float64(len(got) + 2); n > limit {
			t.Errorf("%s: %v allocations decoding %d expressions (want at most %v)", name, n, len(got), limit)
		}
	}
}
