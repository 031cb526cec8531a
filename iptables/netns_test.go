package iptables

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nstest"
)

// reuseNetNSFD returns a namespace descriptor for Dial that is closed
// right after Dial and whose number then names the test process's own
// (host) namespace: what a caller that closes its descriptor after Dial
// and opens another namespace file leaves behind.
func reuseNetNSFD(t *testing.T, ns *nstest.NS, dial func(fd int)) {
	t.Helper()
	dup, err := unix.Dup(ns.FD())
	if err != nil {
		t.Fatal(err)
	}
	dial(dup)
	unix.Close(dup)
	host, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(host) })
	if host != dup {
		t.Logf("descriptor %d not reused (got %d): checking the closed-descriptor case only", dup, host)
	}
}

// TestSocketsStayInNamespace: the sockets a Conn opens after Dial (Save's
// dump pool, the ipset connection for set names) live in the namespace
// of the Conn's own socket, not wherever Config.NetNS points by then.
// Dialing them from a closed-and-reused descriptor once made Save list
// the host's empty chains: every rule of the namespace missing, no error.
func TestSocketsStayInNamespace(t *testing.T) {
	nstest.RequireTool(t, "iptables-nft")
	nstest.RequireTool(t, "ipset")
	ns := nstest.New(t)
	ns.Run(t, "ipset", "create", "nsonly", "hash:ip")
	ns.Run(t, "iptables-nft", "-N", "MINE")
	ns.Run(t, "iptables-nft", "-A", "MINE", "-s", "192.0.2.1/32", "-j", "ACCEPT")
	ns.Run(t, "iptables-nft", "-A", "MINE", "-m", "set", "--match-set", "nsonly", "src", "-j", "DROP")
	var c *Conn
	reuseNetNSFD(t, ns, func(fd int) {
		var err error
		if c, err = Dial(&Config{NetNS: fd}); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	var b strings.Builder
	if err := c.Save(context.Background(), &b, IPv4, "filter", nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-A MINE -s 192.0.2.1/32 -j ACCEPT\n",
		"-A MINE -m set --match-set nsonly src -j DROP\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Save is missing %q:\n%s", want, b.String())
		}
	}
}
