package expr_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
	"github.com/nfkit/nfkit/nft/expr"
	"github.com/nfkit/nfkit/nft/internal/capture"
)

// Expressions this machine's kernel lacks (nft_queue, bridge reject and
// the bridge meta keys), and request forms that differ from the dump (osf): the kernel refuses the rule, so there is no dump
// to compare with. nft sends the rule before the kernel answers, so its
// request bytes are captured instead (TestCaptureSentRules, NFKIT_CAPTURE=1)
// and stored in testdata/sent_rules.txt with nft's NLA_F_NESTED flags.

const sentFixtureFile = "testdata/sent_rules.txt"

type sentCase struct {
	name, family, chain, rule string
	want                      []expr.Any // nil: must decode typed (no Raw)
	// raw names why expression rawAt stays Raw (the request form differs
	// from the kernel's dump form that the typed codec reproduces); the
	// test fails once it decodes typed, so the note cannot go stale.
	raw   string
	rawAt int
}

func sentCases() []sentCase {
	return []sentCase{
		{"queue-range-bypass", "ip", "", "queue num 2-3 bypass", []expr.Any{
			&expr.Queue{Num: 2, Total: 2, Flags: unix.NFT_QUEUE_FLAG_BYPASS}}, "", 0},
		{"queue-fanout", "inet", "", "queue flags fanout num 0-3", []expr.Any{
			&expr.Queue{Num: 0, Total: 4, Flags: unix.NFT_QUEUE_FLAG_CPU_FANOUT}}, "", 0},
		// nft leaves NFTA_QUEUE_FLAGS out when zero; the kernel dumps it.
		{"queue-single", "ip", "", "queue num 7", []expr.Any{
			&expr.Queue{Num: 7, Total: 1, OmitFlags: true}}, "", 0},
		{"bridge-reject", "bridge", "{ type filter hook input priority 0; }", "reject", nil, "", 0},
		// nft sends ICMP_CODE 0 with tcp reset; the kernel dumps no code.
		{"bridge-reject-tcp", "bridge", "{ type filter hook input priority 0; }", "ip protocol tcp reject with tcp reset", []expr.Any{
			&expr.Meta{Key: expr.MetaProtocol, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{8, 0}},
			&expr.Payload{Base: expr.NetworkHeader, Offset: 9, Len: 1, DestRegister: expr.Reg1},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte{6}},
			&expr.Reject{Type: expr.RejectTCPReset, CodeWithReset: true}}, "", 0},
		{"bridge-meta-ibrname", "bridge", "", `meta ibrname "br0" accept`, nil, "", 0},
		{"bridge-meta-obrname", "bridge", "", `meta obrname "br0" accept`, nil, "", 0},
		{"bridge-meta-ibrvproto", "bridge", "", "meta ibrvproto vlan accept", nil, "", 0},
		{"bridge-meta-ibrpvid", "bridge", "", "meta ibrpvid 10 accept", nil, "", 0},
		// osf: nft's request order (DREG, TTL, FLAGS when set) differs
		// from the kernel's dump order (TTL, FLAGS, DREG).
		{"osf-name", "inet", "{ type filter hook prerouting priority 0; }", `osf name "Linux" accept`, []expr.Any{
			&expr.Osf{DestRegister: expr.Reg1, SentForm: true},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte("Linux\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
			&expr.Verdict{Kind: expr.VerdictAccept}}, "", 0},
		{"osf-ttl-version", "ip", "{ type filter hook input priority 0; }", `osf ttl skip version "Linux:4.1"`, []expr.Any{
			&expr.Osf{DestRegister: expr.Reg1, TTL: expr.OsfTTLNoCheck, Flags: expr.OsfVersion, SentForm: true},
			&expr.Cmp{Op: expr.CmpEq, Register: expr.Reg1, Data: []byte("Linux:4.1\x00\x00\x00\x00\x00\x00\x00")}}, "", 0},
	}
}

// TestCaptureSentRules records what nft sends for sentCases (each in a
// fresh namespace, where this kernel refuses it).
func TestCaptureSentRules(t *testing.T) {
	if os.Getenv("NFKIT_CAPTURE") != "1" {
		t.Skip("set NFKIT_CAPTURE=1 to capture nft's requests for the expressions this kernel lacks")
	}
	nstest.RequireTool(t, "strace")
	nstest.RequireTool(t, "nft")
	var sb strings.Builder
	sb.WriteString("# NFTA_RULE_EXPRESSIONS nft 1.0.6 sends (strace, NLA_F_NESTED as sent) for rules this kernel\n")
	sb.WriteString("# refuses; refresh with NFKIT_CAPTURE=1 go test -run TestCaptureSentRules ./nft/expr\n")
	for _, c := range sentCases() {
		ns := nstest.New(t)
		script := fmt.Sprintf("add table %s t\nadd chain %s t c %s\nadd rule %s t c %s\n", c.family, c.family, c.chain, c.family, c.rule)
		msgs, _ := capture.Sendmsg(ns, []byte(script), "nft", "-f", "-")
		var found []byte
		for _, m := range msgs {
			if m.Type>>8 == unix.NFNL_SUBSYS_NFTABLES && m.Cmd() == unix.NFT_MSG_NEWRULE {
				found = ruleExprsAttr(m.Attrs)
			}
		}
		require.NotNil(t, found, "%s: no NEWRULE sent", c.name)
		fmt.Fprintf(&sb, "%s %x\n", c.name, found)
		ns.Close()
	}
	require.NoError(t, os.WriteFile(sentFixtureFile, []byte(sb.String()), 0o644))
}

// ruleExprsAttr returns the NFTA_RULE_EXPRESSIONS payload of a NEWRULE.
func ruleExprsAttr(b []byte) []byte {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return nil
		}
		if binary.NativeEndian.Uint16(b[2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER) == unix.NFTA_RULE_EXPRESSIONS {
			return b[4:l]
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return nil
}

// TestSentFixtureBytes: every captured request decodes to the expected
// typed expressions, and package expr encodes them to exactly nft's bytes
// (flags included: both set NLA_F_NESTED on the list and data nests).
func TestSentFixtureBytes(t *testing.T) {
	fx := readSentFixtures(t)
	var names []string
	for _, c := range sentCases() {
		names = append(names, c.name)
		b, ok := fx[c.name]
		if !ok {
			t.Errorf("%s: no fixture in %s", c.name, sentFixtureFile)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			got, err := expr.Decode(b)
			require.NoError(t, err)
			if c.want != nil {
				require.Equal(t, c.want, got)
			}
			for i, e := range got {
				_, isRaw := e.(*expr.Raw)
				if c.raw != "" && i == c.rawAt {
					require.True(t, isRaw, "expression %d now decodes typed: drop the note %q", i, c.raw)
					t.Logf("kept Raw: %s", c.raw)
					continue
				}
				require.False(t, isRaw, "expression %d (%s) stayed Raw:\n%s", i, e.Name(), hex.Dump(b))
			}
			enc, err := expr.Encode(got)
			require.NoError(t, err)
			require.Equal(t, hex.Dump(b), hex.Dump(enc))
		})
	}
	sort.Strings(names)
	require.Len(t, fx, len(names), "fixtures without a case")
}

func readSentFixtures(t testing.TB) map[string][]byte {
	raw, err := os.ReadFile(sentFixtureFile)
	require.NoError(t, err)
	fx := map[string][]byte{}
	for _, l := range strings.Split(string(raw), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, h, ok := strings.Cut(l, " ")
		require.True(t, ok, l)
		b, err := hex.DecodeString(h)
		require.NoError(t, err)
		fx[name] = b
	}
	return fx
}
