package iptables

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// restoreBoth applies in with nfkit in one namespace and with the CLI in
// another (both starting from setup, applied with the CLI), and checks
// iptables-nft-save -c prints the same for both, and nfkit's Save too.
func restoreBoth(t *testing.T, f Family, setup, in string, opt RestoreOptions) (*nstest.NS, *Conn) {
	return restoreCompare(t, f, setup, in, opt, false)
}

// restoreCompare is restoreBoth; with oneByOne the CLI side runs every
// command of in as its own `iptables-nft -t TABLE ...` (iptables-nft-restore
// 1.8.9 cannot insert before, or replace, a rule added earlier in the same
// restore: it fails with ENOENT).
func restoreCompare(t *testing.T, f Family, setup, in string, opt RestoreOptions, oneByOne bool) (*nstest.NS, *Conn) {
	t.Helper()
	restore, save := "iptables-nft-restore", "iptables-nft-save"
	if f == IPv6 {
		restore, save = "ip6tables-nft-restore", "ip6tables-nft-save"
	}
	nsK, nsC := nstest.New(t), nstest.New(t)
	for _, ns := range []*nstest.NS{nsK, nsC} {
		ns.Run(t, "ipset", "create", "myset", "hash:ip")
		ns.Run(t, "ipset", "create", "myset6", "hash:ip", "family", "inet6")
		ns.Run(t, "ipset", "create", "KUBE-ROUTER", "hash:ip,port")
		if setup != "" {
			ns.RunInput(t, setup, restore, "-c")
		}
	}
	c := dialNS(t, nsK)
	if err := c.Restore(context.Background(), strings.NewReader(in), f, &opt); err != nil {
		t.Fatalf("nfkit restore: %v", err)
	}
	args := []string{}
	if opt.NoFlush {
		args = append(args, "--noflush")
	}
	if opt.Counters {
		args = append(args, "-c")
	}
	if oneByOne {
		tool := strings.TrimSuffix(restore, "-restore")
		table := ""
		for _, l := range strings.Split(in, "\n") {
			switch {
			case strings.HasPrefix(l, "*"):
				table = l[1:]
			case strings.HasPrefix(l, "-"):
				nsC.Run(t, "sh", "-c", tool+" -t "+table+" "+l)
			}
		}
	} else {
		nsC.RunInput(t, in, restore, args...)
	}
	want := stripSaveComments(cliStdout(t, nsC, save, "-c"))
	got := stripSaveComments(cliStdout(t, nsK, save, "-c"))
	if got != want {
		t.Fatalf("%s -c after nfkit Restore differs from after %s:\n%s", save, restore, lineDiff(got, want))
	}
	g, w, _ := dropOpaqueLines(stripSaveComments(saveString(t, c, f, "", true)), want)
	if g != w {
		t.Fatalf("nfkit Save differs from %s:\n%s", save, lineDiff(g, w))
	}
	return nsK, c
}

// TestRestoreFixtures restores every fixture rule (with counters and
// policy counters) with nfkit and with iptables-nft-restore, both
// families, replacing a ruleset that was there before.
func TestRestoreFixtures(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-restore")
	for _, fam := range []string{"4", "6"} {
		in := fixtureRestoreInput(t, fam, func(fx fixture) bool {
			_, err := ParseRule(caseFamily(fam), fx.Save)
			return err == nil
		})
		in = strings.Replace(in, "*filter\n", "*filter\n:INPUT DROP [7:700]\n:FORWARD ACCEPT [3:5]\n", 1)
		setup := "*filter\n:OLD - [0:0]\n-A INPUT -j OLD\n-A OLD -j DROP\nCOMMIT\n*raw\n-A PREROUTING -j ACCEPT\nCOMMIT\n"
		restoreBoth(t, caseFamily(fam), setup, in, RestoreOptions{Counters: true})
		// Without --counters the counters are ignored.
		restoreBoth(t, caseFamily(fam), setup, in, RestoreOptions{})
	}
}

// TestRestoreKubeProxy: a kube-proxy ruleset is accepted and listed back
// by iptables-nft-save exactly as after iptables-nft-restore; then a
// one-service update with --noflush semantics gives the same result too.
func TestRestoreKubeProxy(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-restore")
	svcs := kubeServices(30, 4)
	full := kubeRuleset(svcs)
	restoreBoth(t, IPv4, "", full, RestoreOptions{})
	now := svcs[7]
	now.eps = append([]string{"10.244.200.1"}, now.eps[2:]...) // two gone, one new
	upd := kubeUpdate(svcs[7], now)
	if !strings.Contains(upd, "-X KUBE-SEP-") {
		t.Fatal("update removes no chain")
	}
	restoreBoth(t, IPv4, full, upd, RestoreOptions{NoFlush: true})
}

// TestRestoreNoFlushPositions: -I N, -D by rule and number, -R against
// rules that were there and rules of the same restore, -N, -F, -P, -E, -X.
func TestRestoreNoFlushPositions(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-restore")
	setup := `*filter
:INPUT DROP [0:0]
:A - [0:0]
:B - [0:0]
:OLDNAME - [0:0]
:GONE - [0:0]
-A INPUT -s 192.0.2.1/32 -j ACCEPT
-A INPUT -s 192.0.2.2/32 -j ACCEPT
-A INPUT -s 192.0.2.3/32 -j ACCEPT
-A A -j RETURN
-A B -p tcp --dport 22 -j ACCEPT
-A B -p tcp --dport 23 -j ACCEPT
COMMIT
`
	in := `*filter
-I INPUT 2 -s 198.51.100.1/32 -j DROP
-D INPUT -s 192.0.2.3/32 -j ACCEPT
-A INPUT -s 203.0.113.9/32 -j ACCEPT
-I INPUT 4 -s 203.0.113.8/32 -j ACCEPT
-R INPUT 1 -s 192.0.2.100/32 -j ACCEPT
-R INPUT 5 -s 203.0.113.10/32 -j DROP
-D INPUT 3
-I INPUT -j A
-I A 2 -j LOG --log-prefix "a b"
-F B
-A B -p udp --dport 53 -j ACCEPT
-N C
-A C -j B
-I C 1 -j A
-D C 2
-P INPUT ACCEPT
-E OLDNAME NEWNAME
-X GONE
COMMIT
`
	restoreCompare(t, IPv4, setup, in, RestoreOptions{NoFlush: true}, true)
	restoreCompare(t, IPv6, strings.ReplaceAll(strings.ReplaceAll(setup, "192.0.2.", "2001:db8::"), "/32", "/128"),
		strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(in, "192.0.2.", "2001:db8::"),
			"198.51.100.", "2001:db8:1::"), "203.0.113.", "2001:db8:2::"), "/32", "/128"), RestoreOptions{NoFlush: true}, true)
	// What iptables-nft-restore itself can do (positions of rules that
	// were there before), compared with it directly.
	in2 := "*filter\n-I INPUT 2 -s 198.51.100.1/32 -j DROP\n-D INPUT -s 192.0.2.3/32 -j ACCEPT\n-R INPUT 1 -s 192.0.2.100/32 -j ACCEPT\n" +
		"-D B 2\n-I B 2 -j A\n-A INPUT -j A\n-E OLDNAME NEWNAME\n-X GONE\nCOMMIT\n"
	restoreBoth(t, IPv4, setup, in2, RestoreOptions{NoFlush: true})
}

// TestRestoreAtomic: a bad line in the middle (parse error) or an
// operation the kernel refuses leaves the kernel exactly as it was.
func TestRestoreAtomic(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-restore")
	ns := nstest.New(t)
	ns.RunInput(t, kubeRuleset(kubeServices(5, 2)), "iptables-nft-restore")
	c := dialNS(t, ns)
	beforeSave := cliStdout(t, ns, "iptables-nft-save")
	beforeNft := ns.Run(t, "nft", "list", "ruleset")
	unchanged := func(what string) {
		t.Helper()
		if got := cliStdout(t, ns, "iptables-nft-save"); stripSaveComments(got) != stripSaveComments(beforeSave) {
			t.Errorf("%s: iptables-nft-save changed:\n%s", what, lineDiff(stripSaveComments(got), stripSaveComments(beforeSave)))
		}
		if got := ns.Run(t, "nft", "list", "ruleset"); got != beforeNft {
			t.Errorf("%s: nft list ruleset changed", what)
		}
	}
	for _, tc := range []struct {
		name, in string
		line     int
		token    string
		opt      RestoreOptions
	}{
		{"bad option", "*filter\n:X - [0:0]\n-A X -j ACCEPT\n-A X --bogus 1 -j DROP\n-A X -j DROP\nCOMMIT\n", 4, "--bogus", RestoreOptions{}},
		{"bad address", "*nat\n-A KUBE-SERVICES -d 10.0.0.300 -j DROP\nCOMMIT\n", 2, "10.0.0.300", RestoreOptions{NoFlush: true}},
		{"bad table", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nosuch\nCOMMIT\n", 4, "nosuch", RestoreOptions{}},
		{"no commit", "*filter\n-A INPUT -j ACCEPT\n", 3, "EOF", RestoreOptions{}},
		{"target in wrong table", "*filter\n-A INPUT -j DNAT --to-destination 192.0.2.1\nCOMMIT\n", 2, "", RestoreOptions{}},
		{"no such rule", "*nat\n-A KUBE-MARK-MASQ -j ACCEPT\n-D KUBE-SERVICES -j DROP\nCOMMIT\n", 3, "", RestoreOptions{NoFlush: true}},
	} {
		err := c.Restore(context.Background(), strings.NewReader(tc.in), IPv4, &tc.opt)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || (tc.token != "" && pe.Token != tc.token) {
			t.Errorf("%s: got %v, want a ParseError at line %d token %q", tc.name, err, tc.line, tc.token)
		}
		unchanged(tc.name)
	}
	// The kernel refuses line 4 (jump to a chain that does not exist):
	// nothing of lines 1-3 or of the nat table stays.
	in := "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j ACCEPT\n-A KUBE-SERVICES -j NOSUCHCHAIN\nCOMMIT\n*filter\n-A INPUT -j DROP\nCOMMIT\n"
	err := c.Restore(context.Background(), strings.NewReader(in), IPv4, &RestoreOptions{NoFlush: true})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("kernel error: got %v, want LineError at line 4 matching fs.ErrNotExist", err)
	}
	unchanged("kernel error")
	// --test: valid input, nothing applied.
	if err := c.Restore(context.Background(), strings.NewReader("*filter\n-F\n-A INPUT -j DROP\nCOMMIT\n"), IPv4,
		&RestoreOptions{Test: true}); err != nil {
		t.Errorf("test mode: %v", err)
	}
	unchanged("test mode")
}
