package iptables

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// fixtureCase returns the kernel's bytes and iptables-nft-save's line for
// a case of testdata/rules.json.
func fixtureCase(t *testing.T, c string) ([]byte, string) {
	t.Helper()
	for _, fx := range loadFixtures(t) {
		if fx.Case == c {
			b, err := hex.DecodeString(fx.Exprs)
			if err != nil || fx.Err != "" {
				t.Fatalf("%s: %v %s", c, err, fx.Err)
			}
			return b, fx.Save
		}
	}
	t.Fatalf("no fixture %q", c)
	return nil, ""
}

// TestHashlimitGo: a Hashlimit built in Go (NewHashlimit, SetRate, zero
// meaning iptables' defaults) encodes to the bytes iptables-nft wrote for
// the same options, and prints the same line.
func TestHashlimitGo(t *testing.T) {
	for _, c := range []struct {
		fixture, rate string
		f             Family
		set           func(h *Hashlimit)
		verdict       *Verdict
	}{
		{"4 filter INPUT -m hashlimit --hashlimit-upto 512kb/s --hashlimit-name b512 -j ACCEPT", "512kb/s", IPv4,
			func(h *Hashlimit) { h.TableName = "b512" }, Accept},
		{"4 filter INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name foo -j ACCEPT", "10/sec", IPv4,
			func(h *Hashlimit) { h.TableName = "foo" }, Accept},
		{"4 filter INPUT -m hashlimit --hashlimit-above 100/sec --hashlimit-burst 10 --hashlimit-mode srcip,dstport --hashlimit-name bar -j DROP", "100/s", IPv4,
			func(h *Hashlimit) {
				h.TableName, h.Above, h.Burst, h.Mode = "bar", true, 10, HashlimitSrcIP|HashlimitDstPort
			}, Drop},
		{"6 filter INPUT -m hashlimit --hashlimit-above 2mb/s --hashlimit-mode srcip,dstip --hashlimit-dstmask 48 --hashlimit-name v6b -j DROP", "2mb/s", IPv6,
			func(h *Hashlimit) {
				h.TableName, h.Above, h.Mode, h.DstMask = "v6b", true, HashlimitSrcIP|HashlimitDstIP, 48
			}, Drop},
	} {
		h := NewHashlimit()
		c.set(h)
		if err := h.SetRate(c.rate); err != nil {
			t.Fatal(err)
		}
		r := &Rule{Family: c.f, Chain: "INPUT", Matches: []Match{h}, Target: c.verdict}
		el, err := encodeRuleSets(t, c.f, r)
		if err != nil {
			t.Fatalf("%s: %v", c.fixture, err)
		}
		got, _ := marshalExprs(el)
		want, save := fixtureCase(t, c.fixture)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Go-built bytes differ\n got %x\nwant %x", c.fixture, got, want)
		}
		if r.String() != save {
			t.Errorf("Go-built prints %q, want %q", r.String(), save)
		}
	}
	h := NewHashlimit()
	for _, rate := range []string{"992b/s", "512kb/s", "10mb/s", "10/sec", "5/min", "3/hour", "2/sec"} {
		if err := h.SetRate(rate); err != nil || h.Rate() != rate {
			t.Errorf("SetRate(%q).Rate() = %q, %v", rate, h.Rate(), err)
		}
	}
	// 120/min is 2/sec to the kernel, as iptables-save prints it.
	if err := h.SetRate("120/minute"); err != nil || h.Rate() != "2/sec" || h.Expire != 60000 {
		t.Errorf("120/minute: %q expire %d, %v", h.Rate(), h.Expire, err)
	}
}

// TestHashlimitBadInput: options iptables or the kernel would refuse, and
// names iptables-save could not print back, are ErrInvalid naming the
// token before anything is sent.
func TestHashlimitBadInput(t *testing.T) {
	for _, c := range []struct {
		f         Family
		spec, tok string
	}{
		{IPv4, "-m hashlimit --hashlimit-upto 10/sec", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-name x", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 0/sec --hashlimit-name x", "0/sec"},
		{IPv4, "-m hashlimit --hashlimit-upto 10/fortnight --hashlimit-name x", "10/fortnight"},
		{IPv4, "-m hashlimit --hashlimit-upto 10/ --hashlimit-name x", "10/"},
		{IPv4, "-m hashlimit --hashlimit-upto 1000001/sec --hashlimit-name x", "1000001/sec"},
		{IPv4, "-m hashlimit --hashlimit-upto 64gb/s --hashlimit-name x", "64gb/s"},
		{IPv4, "-m hashlimit --hashlimit-upto 40000mb/s --hashlimit-name x", "40000mb/s"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-above 2/sec --hashlimit-name x", "--hashlimit-above"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 0 --hashlimit-name x", "0"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2000000 --hashlimit-name x", "2000000"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2000k --hashlimit-name x", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1mb/s --hashlimit-burst 1kb --hashlimit-name x", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcmac --hashlimit-name x", "srcmac"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-srcmask 33 --hashlimit-name x", "33"},
		{IPv6, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-dstmask 129 --hashlimit-name x", "129"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name a/b", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name ..", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name \"a b\"", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name " + strings.Repeat("n", 255), "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec ! --hashlimit-name x", "--hashlimit-name"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-htable-expire 0", "0"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-htable-gcinterval 0", "0"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-htable-size 2000000", "-m hashlimit"},
		{IPv4, "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x --hashlimit-rate-interval 0", "0"},
	} {
		_, err := ParseRule(c.f, c.spec)
		var pe *ParseError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &pe) || pe.Token != c.tok {
			t.Errorf("%q: got %v, want ErrInvalid naming %q", c.spec, err, c.tok)
		}
	}
	// A Go-built one without a rate or a name is refused by Append.
	for _, h := range []*Hashlimit{{TableName: "x"}, {Avg: 100000}, {TableName: "x", Avg: 1, Bytes: true}} {
		r := &Rule{Chain: "INPUT", Matches: []Match{h}, Target: Accept}
		if err := NewBatch().Append(IPv4, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: got %v, want ErrInvalid", h, err)
		}
	}
}

// TestHashlimitKernel commits Go-built and parsed hashlimit rules and
// checks iptables-nft-save prints them as expected and nfkit lists them
// back typed; a rate whose avg*burst overflows the kernel's credit
// arithmetic (1/day with the default burst 5, which iptables-nft also
// fails with) comes back as the kernel's ERANGE, not as a silent success.
func TestHashlimitKernel(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-save")
	ns := nstest.New(t)
	c := dialNS(t, ns)
	ctx := context.Background()
	h := NewHashlimit()
	h.TableName, h.Mode, h.SrcMask = "gobuilt", HashlimitSrcIP, 24
	if err := h.SetRate("512kb/s"); err != nil {
		t.Fatal(err)
	}
	r1 := &Rule{Chain: "INPUT", Matches: []Match{h}, Target: Drop}
	r2, err := ParseRule(IPv4, "-A INPUT -m hashlimit --hashlimit-above 10/min --hashlimit-name rm --hashlimit-rate-match -j DROP")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Append(ctx, IPv4, r1); err != nil {
		t.Fatal(err)
	}
	if err := c.Append(ctx, IPv4, r2); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-A INPUT -m hashlimit --hashlimit-upto 512kb/s --hashlimit-mode srcip --hashlimit-name gobuilt --hashlimit-srcmask 24 -j DROP",
		"-A INPUT -m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-name rm --hashlimit-htable-expire 60000 --hashlimit-rate-match --hashlimit-rate-interval 60 -j DROP",
	}
	out := ns.Run(t, "iptables-nft-save", "-t", "filter")
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("iptables-nft-save lacks %q:\n%s", w, out)
		}
	}
	rules, err := c.ListRules(ctx, IPv4, "filter", "INPUT")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("listed %d rules", len(rules))
	}
	for i, r := range rules {
		if _, ok := r.Matches[0].(*Hashlimit); !ok || r.String() != want[i] {
			t.Errorf("listed %T %q, want typed %q", r.Matches[0], r.String(), want[i])
		}
	}
	day, err := ParseRule(IPv4, "-A INPUT -m hashlimit --hashlimit-upto 1/day --hashlimit-name daily -j ACCEPT")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Append(ctx, IPv4, day)
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("1/day burst 5: got %v, want the kernel's refusal", err)
	}
}
