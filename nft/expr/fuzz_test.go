package expr_test

import (
	"encoding/hex"
	"testing"

	"github.com/nfkit/nfkit/nft/expr"
)

// FuzzDecode: Decode never panics, and whatever it accepts encodes and
// decodes again to the same value, whose encoding is stable.
func FuzzDecode(f *testing.F) {
	for _, h := range fixtureSeeds(f) {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := expr.Decode(b)
		if err != nil {
			return
		}
		enc, err := expr.Encode(got)
		if err != nil {
			// Raw with an unusable name is the only thing Decode may
			// produce that Encode refuses.
			for _, e := range got {
				if r, ok := e.(*expr.Raw); ok && (r.ExprName == "" || len(r.ExprName) >= 16) {
					return
				}
			}
			t.Fatalf("Encode(Decode(x)): %v", err)
		}
		again, err := expr.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(x))): %v\n%s", err, hex.Dump(enc))
		}
		enc2, err := expr.Encode(again)
		if err != nil || !expr.SameAttrs(enc, enc2) || len(again) != len(got) {
			t.Fatalf("unstable round trip: %v\n%s\n%s", err, hex.Dump(enc), hex.Dump(enc2))
		}
	})
}

func fixtureSeeds(f *testing.F) [][]byte {
	var out [][]byte
	fx := readFixturesTB(f)
	for _, h := range fx {
		if b, err := hex.DecodeString(h); err == nil {
			out = append(out, b)
		}
	}
	// nft's request forms (osf, queue without flags, reset with a code)
	// and the uapi-built tunnel / inner rules.
	for _, h := range readSentFixtures(f) {
		out = append(out, h)
	}
	for _, c := range uapiCases() {
		out = append(out, c.want)
	}
	return out
}
