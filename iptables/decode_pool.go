package iptables

import "bytes"

// decPool is what a Save worker reuses from rule to rule: the Rule, its
// match list and the typed extensions of the kinds a kube-proxy table is
// made of. Save only prints a decoded rule before decoding the next one,
// so the objects are free again by then; without the pool every listed
// rule cost a Rule, a match slice and one object per match and target.
// Nothing else may use a pooled decode: the Rule it returns is
// overwritten by the next one.
type decPool struct {
	rule     Rule
	jump     Jump
	comments pooled[Comment]
	tcps     pooled[TCP]
	udps     pooled[UDP]
	stats    pooled[Statistic]
	addrs    pooled[Addrtype]
	nats     pooled[NAT]
	marks    pooled[Mark]
	// names interns jump targets and comments: a kube-proxy table names
	// the same chains (KUBE-MARK-MASQ) and the same service comment in
	// the rules next to each other. It is small and cleared when full: a
	// map of every name in the table cost more CPU in growing than the
	// strings it saved (measured).
	names map[string]string
}

// pooled hands out reusable *T; n counts those taken for the current rule.
type pooled[T any] struct {
	all []*T
	n   int
}

func (p *pooled[T]) get() *T {
	if p.n == len(p.all) {
		p.all = append(p.all, new(T))
	}
	v := p.all[p.n]
	p.n++
	return v
}

// newRule returns the pool's Rule, cleared, for the next rule.
func (p *decPool) newRule(f Family) *Rule {
	m := p.rule.Matches[:0]
	p.rule = Rule{Family: f, Matches: m}
	p.comments.n, p.tcps.n, p.udps.n, p.stats.n, p.addrs.n, p.nats.n, p.marks.n = 0, 0, 0, 0, 0, 0, 0
	return &p.rule
}

// maxInterned bounds the intern table of one Save worker.
const maxInterned = 512

func (p *decPool) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	if p.names == nil {
		p.names = make(map[string]string, maxInterned)
	} else if len(p.names) >= maxInterned {
		clear(p.names)
	}
	s := string(b)
	p.names[s] = s
	return s
}

// newExt is newMatch / newTarget for the pooled kinds (nil for others).
func (p *decPool) newExt(target bool, name string) ext {
	if target {
		switch name {
		case "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP":
			t := p.nats.get()
			*t = NAT{Kind: name}
			return t
		}
		return nil
	}
	switch name {
	case "comment":
		m := p.comments.get()
		*m = Comment{}
		return m
	case "tcp":
		return p.newTCP()
	case "udp":
		return p.newUDP()
	case "statistic":
		m := p.stats.get()
		*m = Statistic{}
		return m
	case "addrtype":
		m := p.addrs.get()
		*m = Addrtype{}
		return m
	}
	return nil
}

func (p *decPool) newTCP() *TCP {
	m := p.tcps.get()
	*m = TCP{Src: anyPort, Dst: anyPort}
	return m
}

func (p *decPool) newUDP() *UDP {
	m := p.udps.get()
	*m = UDP{Src: anyPort, Dst: anyPort}
	return m
}

// commentText is Comment.setInfo's text, interned; ok is false when the
// info is too short (setInfo then reports it).
func (p *decPool) commentText(b []byte) (string, bool) {
	if len(b) < 256 {
		return "", false
	}
	b = b[:256]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return p.intern(b), true
}
