package main

import (
	"fmt"
	"net/netip"

	"github.com/nfkit/nfkit/examples/internal/netlab"
	"github.com/nfkit/nfkit/internal/nstest"
)

// The example network, documentation addresses only:
//
//	client 192.0.2.2 --- 192.0.2.1 node 198.51.100.1 --- 198.51.100.2  backend-a
//	                                    198.51.100.5 --- 198.51.100.6  backend-b
//	                                    198.51.100.9 --- 198.51.100.10 backend-c
//
// The node routes between them and runs the proxy rules; the services'
// virtual IPs are in 203.0.113.0/24, which the client routes to the node.
const backendPort = 8080

var (
	clientAddr = netip.MustParsePrefix("192.0.2.2/24")
	nodeClient = netip.MustParsePrefix("192.0.2.1/24")
	vipRange   = netip.MustParsePrefix("203.0.113.0/24")
)

type backend struct {
	Name string
	NS   *nstest.NS
	Addr netip.Addr
}

func (b backend) Endpoint() netip.AddrPort { return netip.AddrPortFrom(b.Addr, backendPort) }

type network struct {
	lab      netlab.Lab
	client   *nstest.NS
	node     *nstest.NS
	backends []backend
}

// nameOf maps an endpoint address back to its backend's name.
func (n *network) nameOf(a netip.Addr) string {
	for _, b := range n.backends {
		if b.Addr == a {
			return b.Name
		}
	}
	return a.String()
}

func (n *network) backend(name string) backend {
	for _, b := range n.backends {
		if b.Name == name {
			return b
		}
	}
	panic("no backend " + name)
}

func buildNetwork(names ...string) (_ *network, err error) {
	n := &network{}
	defer func() {
		if err != nil {
			n.lab.Close()
		}
	}()
	if n.client, err = n.lab.NS("sp-client"); err != nil {
		return nil, err
	}
	if n.node, err = n.lab.NS("sp-node"); err != nil {
		return nil, err
	}
	if err := netlab.Veth(n.client, "eth0", clientAddr, n.node, "to-client", nodeClient); err != nil {
		return nil, err
	}
	if err := netlab.Route(n.client, vipRange, nodeClient.Addr()); err != nil {
		return nil, err
	}
	if err := netlab.Sysctl(n.node, "net.ipv4.ip_forward", "1"); err != nil {
		return nil, err
	}
	for i, name := range names {
		ns, err := n.lab.NS("sp-" + name)
		if err != nil {
			return nil, err
		}
		base := netip.AddrFrom4([4]byte{198, 51, 100, byte(4*i + 1)})
		gw := netip.PrefixFrom(base, 30)
		addr := netip.PrefixFrom(base.Next(), 30)
		if err := netlab.Veth(n.node, fmt.Sprintf("to-%s", name), gw, ns, "eth0", addr); err != nil {
			return nil, err
		}
		if err := netlab.Route(ns, netip.Prefix{}, gw.Addr()); err != nil {
			return nil, err
		}
		b := backend{Name: name, NS: ns, Addr: addr.Addr()}
		if err := n.lab.Serve(ns, netip.AddrPortFrom(netip.IPv4Unspecified(), backendPort), name); err != nil {
			return nil, err
		}
		n.backends = append(n.backends, b)
	}
	return n, nil
}

func (n *network) Close() error { return n.lab.Close() }
