package iptables

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func loadFixtures(t testing.TB) []fixture {
	b, err := os.ReadFile(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	var fx []fixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

func caseFamily(s string) Family {
	if s == "6" {
		return IPv6
	}
	return IPv4
}

func hasOpaque(r *Rule) bool {
	for _, m := range r.Matches {
		if _, ok := m.(*Extension); ok {
			return true
		}
	}
	_, ok := r.Target.(*Extension)
	return ok
}

// TestFixtures checks every rule iptables-nft wrote (testdata/rules.json)
// against nfkit: parsing the arguments and printing gives the line
// iptables-nft-save printed; encoding gives the kernel's bytes; decoding
// the kernel's bytes gives a rule that prints the same line and
// re-encodes to the same bytes.
func TestFixtures(t *testing.T) {
	var parsed, typedDecode, opaque, unsupported int
	for _, fx := range loadFixtures(t) {
		if fx.Err != "" {
			continue
		}
		fam, table, chain, args := splitCase(fx.Case)
		f := caseFamily(fam)
		want, err := hex.DecodeString(fx.Exprs)
		if err != nil {
			t.Fatal(err)
		}
		// Decode what iptables-nft wrote.
		list, err := unmarshalExprs(want)
		if err != nil {
			t.Errorf("%s: split: %v", fx.Case, err)
			continue
		}
		dr, err := decodeRule(f, list)
		if err != nil {
			if errors.Is(err, ErrForeign) {
				unsupported++
				t.Logf("%s: not decodable yet: %v", fx.Case, err)
				continue
			}
			t.Errorf("%s: decode: %v", fx.Case, err)
			continue
		}
		dr.Chain, dr.Table = chain, table
		if err := fixtureSets().nameRule(t.Context(), dr); err != nil {
			t.Errorf("%s: set names: %v", fx.Case, err)
			continue
		}
		rl, err := encodeRule(f, dr)
		if err != nil {
			t.Errorf("%s: re-encode: %v", fx.Case, err)
			continue
		}
		if got, _ := marshalExprs(rl); !bytes.Equal(got, want) {
			t.Errorf("%s: decode+encode bytes differ\n got %x\nwant %x", fx.Case, got, want)
		}
		if hasOpaque(dr) {
			opaque++
		} else {
			typedDecode++
			if got := dr.String(); got != fx.Save {
				t.Errorf("%s: decoded rule prints\n %s\nwant\n %s", fx.Case, got, fx.Save)
			}
		}
		// Parse the same arguments.
		r, err := ParseRule(f, "-A "+chain+" "+args)
		if err != nil {
			if strings.Contains(err.Error(), "unknown") || strings.Contains(err.Error(), "not supported") {
				unsupported++
				t.Logf("%s: not parsed: %v", fx.Case, err)
				continue
			}
			t.Errorf("%s: parse: %v", fx.Case, err)
			continue
		}
		parsed++
		if got := r.Spec(f); "-A "+chain+" "+got != fx.Save && !(got == "" && fx.Save == "-A "+chain) {
			t.Errorf("%s: prints\n -A %s %s\nwant\n %s", fx.Case, chain, got, fx.Save)
		}
		el, err := encodeRuleSets(t, f, r)
		if err != nil {
			t.Errorf("%s: encode: %v", fx.Case, err)
			continue
		}
		if got, _ := marshalExprs(el); !bytes.Equal(got, want) {
			t.Errorf("%s: encode bytes differ\n got %x\nwant %x", fx.Case, got, want)
		}
		// The printed line parses back to the same bytes, except where
		// iptables-save loses information (-i + writes a bare meta load;
		// connlimit without --connlimit-mask writes an all-ones mask that
		// iptables-save prints as the address length, which then writes
		// that prefix; recent without --mask is the same: the default
		// sets all 16 mask bytes, an explicit IPv4 mask only 4).
		if strings.Contains(args, " + ") || strings.Contains(args, "-c ") ||
			strings.Contains(args, "-m connlimit") && !strings.Contains(args, "--connlimit-mask") ||
			strings.Contains(args, "-m recent") && !strings.Contains(args, "--mask") {
			continue
		}
		r2, err := ParseRule(f, fx.Save)
		if err != nil {
			t.Errorf("%s: parse of saved line: %v", fx.Case, err)
			continue
		}
		el2, _ := encodeRuleSets(t, f, r2)
		if got, _ := marshalExprs(el2); !bytes.Equal(got, want) {
			t.Errorf("%s: saved line encodes differently", fx.Case)
		}
	}
	t.Logf("parsed+encoded exactly: %d, decoded typed: %d, decoded opaque: %d, unsupported: %d", parsed, typedDecode, opaque, unsupported)
}

// fixtureSets knows the ipsets TestCaptureFixtures creates, by the index
// the kernel gave them (creation order), so fixtures decode and encode
// without a kernel.
func fixtureSets() *setCache {
	sc := &setCache{idx: map[string]uint16{}, names: map[uint16]string{}}
	for i, n := range []string{"myset", "myset6", "KUBE-ROUTER"} {
		sc.idx[n], sc.names[uint16(i)] = uint16(i), n
	}
	return sc
}

// encodeRuleSets is encodeRule with set names looked up in fixtureSets.
func encodeRuleSets(t testing.TB, f Family, r *Rule) ([]xpr, error) {
	e := &enc{}
	if err := e.rule(f, r); err != nil {
		return nil, err
	}
	if err := fixtureSets().patch(context.Background(), e.w.Buf, e.fix); err != nil {
		t.Fatal(err)
	}
	return e.list(), nil
}
