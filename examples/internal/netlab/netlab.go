// Package netlab is the plumbing the examples share: throwaway network
// namespaces joined by veth pairs, tiny TCP servers that answer with their
// name, and a client that asks them. It is example scaffolding, not part of
// nfkit: it execs `ip` and `sysctl` for plumbing (the nfkit library itself
// never execs anything), and it only ever uses the documentation ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 or loopback.
package netlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/nfkit/nfkit/internal/nstest"
)

// Lab owns the namespaces of one example run and removes them all on Close.
type Lab struct {
	mu  sync.Mutex
	nss []*nstest.NS
	lns []net.Listener
}

// NS makes a fresh named namespace (lo up) that Close removes.
func (l *Lab) NS(prefix string) (*nstest.NS, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN")
	}
	ns, err := nstest.Create(prefix)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.nss = append(l.nss, ns)
	l.mu.Unlock()
	return ns, nil
}

// Close stops the servers and removes every namespace the lab made.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lns {
		ln.Close()
	}
	var errs []error
	for i := len(l.nss) - 1; i >= 0; i-- {
		if err := l.nss[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	l.nss, l.lns = nil, nil
	return errors.Join(errs...)
}

// Documentation reports whether a may carry example traffic.
func Documentation(a netip.Addr) bool { return nstest.Documentation(a) }

// IP runs `ip ARGS` inside ns.
func IP(ns *nstest.NS, args ...string) error {
	if out, err := ns.Exec("ip", args...); err != nil {
		return fmt.Errorf("ip %s in %s: %v: %s", strings.Join(args, " "), ns.Name, err, strings.TrimSpace(out))
	}
	return nil
}

// Veth joins a and b with a veth pair aName/bName, addresses them and brings
// both ends up. The addresses must be in the documentation ranges.
func Veth(a *nstest.NS, aName string, aAddr netip.Prefix, b *nstest.NS, bName string, bAddr netip.Prefix) error {
	for _, p := range []netip.Prefix{aAddr, bAddr} {
		if !Documentation(p.Addr()) {
			return fmt.Errorf("netlab: %s is not in a documentation range", p)
		}
	}
	if err := IP(a, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Path()); err != nil {
		return err
	}
	for _, e := range []struct {
		ns   *nstest.NS
		name string
		addr netip.Prefix
	}{{a, aName, aAddr}, {b, bName, bAddr}} {
		args := []string{"addr", "add", e.addr.String(), "dev", e.name}
		if e.addr.Addr().Is6() {
			args = append(args, "nodad")
		}
		if err := IP(e.ns, args...); err != nil {
			return err
		}
		if err := IP(e.ns, "link", "set", e.name, "up"); err != nil {
			return err
		}
	}
	return nil
}

// Route adds a route to dst via gw in ns ("default" for dst.IsValid() false).
func Route(ns *nstest.NS, dst netip.Prefix, gw netip.Addr) error {
	d := "default"
	if dst.IsValid() {
		d = dst.String()
	}
	return IP(ns, "route", "add", d, "via", gw.String())
}

// Sysctl sets a sysctl inside ns by writing /proc/sys from a thread inside
// it (per-namespace sysctls such as net.ipv4.ip_forward).
func Sysctl(ns *nstest.NS, key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	return ns.Do(func() error { return os.WriteFile(path, []byte(value), 0o644) })
}

// Serve starts a TCP server inside ns on addr that answers every connection
// with name and a newline, then closes it. The listening socket is created
// inside ns, so it stays there whichever thread later accepts on it.
func (l *Lab) Serve(ns *nstest.NS, addr netip.AddrPort, name string) error {
	var ln net.Listener
	err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("listen on %s in %s: %w", addr, ns.Name, err)
	}
	l.mu.Lock()
	l.lns = append(l.lns, ln)
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * time.Second))
				io.WriteString(c, name+"\n")
			}()
		}
	}()
	return nil
}

// Ask connects from inside ns to addr and returns the first line the server
// sends (a backend's name). The socket is created inside ns.
func Ask(ctx context.Context, ns *nstest.NS, addr netip.AddrPort, timeout time.Duration) (string, error) {
	var c net.Conn
	err := ns.Do(func() error {
		d := net.Dialer{Timeout: timeout}
		var err error
		c, err = d.DialContext(ctx, "tcp", addr.String())
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read from %s: %w", addr, err)
	}
	return strings.TrimSpace(line), nil
}

// Tally asks n times and counts the answers; failures are counted under
// the key "" and the last error is returned alongside.
func Tally(ctx context.Context, ns *nstest.NS, addr netip.AddrPort, n int, timeout time.Duration) (map[string]int, error) {
	got := map[string]int{}
	var last error
	for range n {
		name, err := Ask(ctx, ns, addr, timeout)
		if err != nil {
			last = err
		}
		got[name]++
	}
	return got, last
}

// Have reports whether a command is installed (for the optional CLI
// cross-checks the examples print).
func Have(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
