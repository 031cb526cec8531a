package iptables

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/nstest"
)

// TestSetIndexes: -m set and -j SET name sets by the kernel index in the
// Conn's namespace. Sets are created so that indexes differ from the
// fixture order (a decoy first), the rules go in through Append, Restore
// and Commit, iptables-nft-save must print the right names, listing must
// give them back, and Exists/Delete by specification find the rule.
func TestSetIndexes(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-save")
	ns := nstest.New(t)
	for _, s := range []string{"decoy", "blocked", "allowed"} {
		ns.Run(t, "ipset", "create", s, "hash:ip")
	}
	ns.Run(t, "ipset", "create", "pairs", "hash:ip,port")
	// Another namespace with the same names at other indexes: a lookup
	// in the wrong namespace would print the wrong names.
	other := nstest.New(t)
	for _, s := range []string{"pairs", "allowed", "blocked"} {
		other.Run(t, "ipset", "create", s, "hash:ip,port")
	}
	c := dialNS(t, ns)
	ctx := context.Background()
	lines := []string{
		"-A INPUT -m set --match-set blocked src -j DROP",
		"-A INPUT -m set ! --match-set allowed src,dst --return-nomatch ! --update-counters --packets-lt 5 ! --bytes-eq 9 -j ACCEPT",
		"-A INPUT -m set --match-set pairs dst,dst -j SET --add-set blocked src --exist --timeout 60 --del-set allowed src",
	}
	for _, l := range lines[:2] {
		r, err := ParseRule(IPv4, l)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Append(ctx, IPv4, r); err != nil {
			t.Fatalf("Append %s: %v", l, err)
		}
	}
	if err := c.Restore(ctx, strings.NewReader("*filter\n"+lines[2]+"\nCOMMIT\n"), IPv4, &RestoreOptions{NoFlush: true}); err != nil {
		t.Fatal(err)
	}
	check := func(want []string) {
		t.Helper()
		var got []string
		for _, l := range strings.Split(ns.Run(t, "iptables-nft-save", "-t", "filter"), "\n") {
			if strings.HasPrefix(l, "-A ") {
				got = append(got, l)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("iptables-nft-save:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		rules, err := c.ListRules(ctx, IPv4, "filter", "INPUT")
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, r := range rules {
			got = append(got, r.String())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ListRules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check(lines)
	rest := lines
	// Exists / Delete by specification resolve the name first.
	r, _ := ParseRule(IPv4, rest[0])
	if ok, err := c.Exists(ctx, IPv4, r); err != nil || !ok {
		t.Fatalf("Exists(%s) = %v, %v", rest[0], ok, err)
	}
	if err := c.Delete(ctx, IPv4, r); err != nil {
		t.Fatal(err)
	}
	check(rest[1:])
	// A restore -D by specification (compared with the kernel's rules,
	// which carry indexes).
	if err := c.Restore(ctx, strings.NewReader("*filter\n-D"+strings.TrimPrefix(rest[1], "-A")+"\nCOMMIT\n"), IPv4, &RestoreOptions{NoFlush: true}); err != nil {
		t.Fatal(err)
	}
	check(rest[2:])
}

// TestSetMissing: a rule naming a set that does not exist fails with
// ErrInvalid naming the set, and nothing is sent (not even the table).
func TestSetMissing(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft-save")
	ns := nstest.New(t)
	c := dialNS(t, ns)
	ctx := context.Background()
	r, err := ParseRule(IPv4, "-A INPUT -m set --match-set nosuch src -j DROP")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Append(ctx, IPv4, r)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Fatalf("Append: %v, want ErrInvalid naming nosuch", err)
	}
	in := "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j SET --add-set nosuch2 src\nCOMMIT\n"
	err = c.Restore(ctx, strings.NewReader(in), IPv4, nil)
	var le *LineError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &le) || le.Line != 3 || !strings.Contains(err.Error(), "nosuch2") {
		t.Fatalf("Restore: %v, want ErrInvalid at line 3 naming nosuch2", err)
	}
	if out := ns.Run(t, "nft", "list", "ruleset"); strings.TrimSpace(out) != "" {
		t.Errorf("something was sent:\n%s", out)
	}
}

// TestSetParseErrors: bad set options are refused at parse time.
func TestSetParseErrors(t *testing.T) {
	for _, s := range []string{
		"-m set --match-set",
		"-m set --match-set x",
		"-m set --match-set x sideways",
		"-m set --match-set x src,src,src,src,src,src,src",
		"-m set --match-set abcdefghijklmnopqrstuvwxyz0123456 src",
		"-m set --match-set x src --match-set y src",
		"-m set --match-set x src ! --return-nomatch",
		"-m set --match-set x src ! --packets-gt 3",
		"-m set --match-set x src --packets-eq 1 --packets-lt 3",
		"-m set",
		"-j SET",
		"-j SET --add-set x src --timeout 4294967295",
		"-j SET --map-mark",
	} {
		if _, err := ParseRule(IPv4, s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", s, err)
		}
	}
}
