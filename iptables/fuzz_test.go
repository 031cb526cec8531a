package iptables

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

func FuzzParseRule(f *testing.F) {
	for _, c := range ruleCases {
		_, _, _, args := splitCase(c)
		f.Add(args)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(IPv4, s)
		if err != nil {
			return
		}
		// What prints must parse back to the same text.
		out := r.Spec(IPv4)
		r2, err := ParseRule(IPv4, out)
		if err != nil {
			t.Fatalf("%q printed %q which does not parse: %v", s, out, err)
		}
		if out2 := r2.Spec(IPv4); out2 != out {
			t.Fatalf("unstable: %q -> %q -> %q", s, out, out2)
		}
	})
}

func FuzzDecodeRule(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		if b, err := hex.DecodeString(fx.Exprs); err == nil {
			f.Add(b, fx.Case[0] == '6')
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		fam := IPv4
		if v6 {
			fam = IPv6
		}
		list, err := unmarshalExprs(b)
		if err != nil {
			return
		}
		r, err := decodeRule(fam, list)
		if err != nil {
			return
		}
		l1, err := encodeRule(fam, r)
		if err != nil {
			return
		}
		b1, _ := marshalExprs(l1)
		list2, err := unmarshalExprs(b1)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeRule(fam, list2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		l2, _ := encodeRule(fam, r2)
		if b2, _ := marshalExprs(l2); !bytes.Equal(b1, b2) {
			t.Fatal("decode/encode not stable")
		}
	})
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		f         Family
		spec, tok string
	}{
		{IPv4, "-p tcp --bogus 1 -j ACCEPT", "--bogus"},
		{IPv4, "-p tcp --dport 30:20 -j ACCEPT", "30:20"},
		{IPv4, "-s 2001:db8::1 -j ACCEPT", "2001:db8::1"},
		{IPv6, "-d 192.0.2.1 -j ACCEPT", "192.0.2.1"},
		{IPv4, "-j ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"},
		{IPv4, "-m nosuchmatch -j ACCEPT", "nosuchmatch"},
		{IPv4, "-m comment --comment \"unterminated", "-m comment --comment \"unterminated"},
		// Names iptables-nft -N refuses: isspace bytes, a leading '!'.
		{IPv4, "-j \"000\r\"", "000\r"},
		{IPv4, "-g \"a\vb\"", "a\vb"},
		{IPv4, "-j !a", "!a"},
		{IPv4, "-A \"a b\" -j ACCEPT", "a b"},
	} {
		_, err := ParseRule(c.f, c.spec)
		var pe *ParseError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &pe) || pe.Token != c.tok {
			t.Errorf("%q: got %v, want ErrInvalid naming %q", c.spec, err, c.tok)
		}
	}
	// A NAT target outside the nat table is refused before anything is sent.
	r, err := ParseRule(IPv4, "-A INPUT -p tcp -j DNAT --to-destination 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := NewBatch().Append(IPv4, r); !errors.Is(err, ErrInvalid) {
		t.Errorf("DNAT in filter: got %v", err)
	}
}

// FuzzParseRestore: the restore parser never panics, and what it accepts
// as rules prints text that parses again.
func FuzzParseRestore(f *testing.F) {
	f.Add(kubeRuleset(kubeServices(2, 2)))
	f.Add("*filter\n:INPUT DROP [1:2]\n[3:4] -A INPUT -j ACCEPT\n-I INPUT 2 -j DROP\n-D INPUT 1\n-R INPUT 1 -j DROP\n-X\n-F\n-E A B\nCOMMIT\n")
	f.Fuzz(func(t *testing.T, s string) {
		tables, err := parseRestore(strings.NewReader(s), IPv4, true)
		if err != nil {
			return
		}
		for _, tb := range tables {
			for _, c := range tb.cmds {
				if c.rule == nil {
					continue
				}
				if _, err := ParseRule(IPv4, c.rule.Spec(IPv4)); err != nil {
					t.Fatalf("%q: printed %q does not parse: %v", s, c.rule.Spec(IPv4), err)
				}
			}
		}
	})
}

// TestChainNameText: chain names iptables-nft accepts (any byte but
// isspace, not starting with '-' or '!') print as rule text that parses
// back to the same name, as -j, -g and -A.
func TestChainNameText(t *testing.T) {
	for _, c := range []struct{ name, text string }{
		{"a\"b", `"a\"b"`},
		{"\"", `"\""`},
		{"a\\\"", `"a\\\""`},
		{"a\\b", `a\b`},
		{"a'b", `a'b`},
		{"#a", `#a`},
		{"a!", `a!`},
		{"\x01\xff", "\x01\xff"},
	} {
		for _, flag := range []string{"-j", "-g"} {
			r := &Rule{Chain: c.name, Target: &Jump{Chain: c.name, Goto: flag == "-g"}}
			want := "-A " + c.text + " " + flag + " " + c.text
			if got := r.String(); got != want {
				t.Errorf("%q: printed %q, want %q", c.name, got, want)
				continue
			}
			r2, err := ParseRule(IPv4, want)
			if err != nil {
				t.Errorf("%q: %v", want, err)
				continue
			}
			if j, ok := r2.Target.(*Jump); !ok || j.Chain != c.name || r2.Chain != c.name {
				t.Errorf("%q parsed as chain %q target %#v", want, r2.Chain, r2.Target)
			}
		}
	}
}

// TestIfaceNameText: interface names iptables accepts with a warning (a
// blank, a quote) or that are empty print quoted, so they parse back.
func TestIfaceNameText(t *testing.T) {
	for _, c := range []struct{ name, text string }{
		{"a\"b", `! -i "a\"b"`},
		{"a b", `! -i "a b"`},
		{"", `! -i ""`},
		{"eth0", `! -i eth0`},
		{"a\\b", `! -i a\b`},
	} {
		r := &Rule{In: Iface{Name: c.name, Invert: true}}
		if got := r.Spec(IPv4); got != c.text {
			t.Errorf("%q: printed %q, want %q", c.name, got, c.text)
		}
		r2, err := ParseRule(IPv4, c.text)
		if err != nil || r2.In != r.In {
			t.Errorf("%q parsed as %+v, %v", c.text, r2, err)
		}
	}
}

// TestRepeatedMatch: options after a second -m of the same match belong to
// it, not to the first (iptables-nft-save prints this rule as given; the
// fuzzer found -m tos --tos 0 -m tos printing text that read back with
// both --tos on the first match).
func TestRepeatedMatch(t *testing.T) {
	const spec = "-m tos --tos 0x01/0xff -m tos --tos 0x02/0xff"
	r, err := ParseRule(IPv4, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Matches) != 2 {
		t.Fatalf("%d matches", len(r.Matches))
	}
	if got := r.Spec(IPv4); got != spec {
		t.Errorf("printed %q, want %q", got, spec)
	}
}

// FuzzDecodeListedChain: Save's chain decoder never panics, and what it
// reads from a chain it also reads from the same attributes re-encoded.
func FuzzDecodeListedChain(f *testing.F) {
	var e attr.Writer
	e.String(unix.NFTA_CHAIN_TABLE, "filter")
	e.String(unix.NFTA_CHAIN_NAME, "INPUT")
	e.U64(unix.NFTA_CHAIN_HANDLE, 1)
	var h attr.Writer
	h.U32(unix.NFTA_HOOK_HOOKNUM, 1)
	h.U32(unix.NFTA_HOOK_PRIORITY, 0)
	e.Bytes(unix.NFTA_CHAIN_HOOK|unix.NLA_F_NESTED, h.Buf)
	e.U32(unix.NFTA_CHAIN_POLICY, 1)
	e.String(unix.NFTA_CHAIN_TYPE, "filter")
	f.Add(e.Buf)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, ours, err := decodeListedChain(b, "filter")
		if err != nil {
			return
		}
		var w attr.Writer
		w.String(unix.NFTA_CHAIN_NAME, ch.name)
		if !ours {
			w.String(unix.NFTA_CHAIN_TABLE, "other")
		}
		back, ours2, err := decodeListedChain(w.Buf, "filter")
		if err != nil || ours2 != ours || (back.name != ch.name && !strings.ContainsRune(ch.name, 0)) {
			t.Fatalf("%q: name %q ours %v, re-encoded: %q %v %v", b, ch.name, ours, back.name, ours2, err)
		}
	})
}
