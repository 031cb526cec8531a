package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// kubeChain names a chain the way kube-proxy does: prefix + the first 16
// characters of base32(sha256(key)).
func kubeChain(prefix, key string) string {
	h := sha256.Sum256([]byte(key))
	return prefix + base32.StdEncoding.EncodeToString(h[:])[:16]
}

type kubeSvc struct {
	name      string
	clusterIP string
	port      int
	eps       []string // endpoint IPs
}

// kubeServices makes n services of m endpoints each. Rule contents only:
// no packet is ever sent to these addresses.
func kubeServices(n, m int) []kubeSvc {
	out := make([]kubeSvc, n)
	for i := range out {
		s := kubeSvc{name: fmt.Sprintf("ns%d/svc%d:http", i%50, i),
			clusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), port: 80 + i%3}
		for j := 0; j < m; j++ {
			k := i*m + j
			s.eps = append(s.eps, fmt.Sprintf("10.244.%d.%d", k/250, k%250+1))
		}
		out[i] = s
	}
	return out
}

// kubeSvcChains writes the chain lines and rules of one service in
// kube-proxy's shape: KUBE-SVC-* spreading with statistic over KUBE-SEP-*
// chains that mark for masquerade and DNAT.
func kubeSvcChains(chains, rules *strings.Builder, s kubeSvc) {
	svc := kubeChain("KUBE-SVC-", s.name)
	fmt.Fprintf(chains, ":%s - [0:0]\n", svc)
	fmt.Fprintf(rules, "-A %s ! -s 10.244.0.0/16 -d %s/32 -p tcp -m comment --comment \"%s cluster IP\" -m tcp --dport %d -j KUBE-MARK-MASQ\n",
		svc, s.clusterIP, s.name, s.port)
	for j, ep := range s.eps {
		sep := kubeChain("KUBE-SEP-", s.name+ep)
		fmt.Fprintf(chains, ":%s - [0:0]\n", sep)
		if left := len(s.eps) - j; left > 1 {
			fmt.Fprintf(rules, "-A %s -m comment --comment \"%s -> %s:8080\" -m statistic --mode random --probability %0.10f -j %s\n",
				svc, s.name, ep, 1/float64(left), sep)
		} else {
			fmt.Fprintf(rules, "-A %s -m comment --comment \"%s -> %s:8080\" -j %s\n", svc, s.name, ep, sep)
		}
		fmt.Fprintf(rules, "-A %s -s %s/32 -m comment --comment %s -j KUBE-MARK-MASQ\n", sep, ep, s.name)
		fmt.Fprintf(rules, "-A %s -p tcp -m comment --comment %s -m tcp -j DNAT --to-destination %s:8080\n", sep, s.name, ep)
	}
}

// kubeRuleset is a full kube-proxy iptables-mode ruleset (filter and nat)
// for svcs, with the built-in chains' jumps.
func kubeRuleset(svcs []kubeSvc) string {
	var b, chains, rules strings.Builder
	b.WriteString(`*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
`)
	for _, s := range svcs {
		kubeSvcChains(&chains, &rules, s)
	}
	b.WriteString(chains.String())
	b.WriteString(`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
`)
	for _, s := range svcs {
		fmt.Fprintf(&b, "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"%s cluster IP\" -m tcp --dport %d -j %s\n",
			s.clusterIP, s.name, s.port, kubeChain("KUBE-SVC-", s.name))
	}
	b.WriteString("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n")
	b.WriteString(rules.String())
	b.WriteString("COMMIT\n")
	return b.String()
}

// kubeUpdate is what kube-proxy sends with --noflush when one service's
// endpoints change: the service's chains, flushed by their ":" lines and
// rewritten, new endpoint chains, and -X of the gone ones.
func kubeUpdate(old, now kubeSvc) string {
	var b, chains, rules strings.Builder
	b.WriteString("*nat\n")
	kubeSvcChains(&chains, &rules, now)
	b.WriteString(chains.String())
	keep := map[string]bool{}
	for _, ep := range now.eps {
		keep[ep] = true
	}
	var gone []string
	for _, ep := range old.eps {
		if !keep[ep] {
			gone = append(gone, kubeChain("KUBE-SEP-", old.name+ep))
		}
	}
	for _, ch := range gone {
		fmt.Fprintf(&b, ":%s - [0:0]\n", ch)
	}
	b.WriteString(rules.String())
	for _, ch := range gone {
		fmt.Fprintf(&b, "-X %s\n", ch)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}
