package ipset

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// testConn returns a fresh namespace and a Conn inside it.
func testConn(t testing.TB) (*nstest.NS, *Conn) {
	t.Helper()
	ns := nstest.New(t)
	c, err := Dial(&Config{NetNS: ns.FD()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return ns, c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// cliSave runs `ipset save` in ns, dropping the random initval so that
// sets created without one compare equal.
func cliSave(t testing.TB, ns *nstest.NS, args ...string) string {
	t.Helper()
	return ns.Run(t, "ipset", append([]string{"save"}, args...)...)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
