package iptables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// This file reads the nf_tables expressions of a listed rule back into a
// Rule. It is the hot path of Save and listing (62 000 rules for a
// kube-proxy table), so it walks the netlink attributes in place: no
// attribute decoder objects, no map per expression, expression names and
// xt extension names interned, values aliasing the dump buffer until a
// typed extension copies what it keeps.

// attrs holds one expression's attributes by type. Every expression
// iptables-nft writes uses types below 16; higher ones are ignored, as a
// map lookup of the known types ignored them before.
type attrs [16][]byte

func (a *attrs) parse(b []byte) bool {
	*a = attrs{}
	it := attr.NewIter(b)
	for it.Next() {
		if typ := it.Kind(); int(typ) < len(a) {
			a[typ] = it.Data()
		}
	}
	return it.Err() == nil
}

// xprNames interns the expression names a listing carries.
var xprNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"meta", "cmp", "payload", "bitwise", "range", "match", "target", "counter",
		"immediate", "limit", "log", "lookup", "ct", "nat", "reject", "fib", "dynset", "objref", "queue",
		"masq", "redir", "quota", "numgen", "hash", "exthdr", "socket", "tproxy", "synproxy", "notrack"} {
		m[n] = n
	}
	return m
}()

func internName(m map[string]string, b []byte) string {
	b = trimNUL(b)
	if s, ok := m[string(b)]; ok {
		return s
	}
	return string(b)
}

// trimNUL cuts the trailing NULs of a netlink string (bytes.TrimRight
// with a cutset is several times slower, on every expression of every
// listed rule).
func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// exprName is internName(xprNames, b) for the expressions iptables-nft
// writes, compared directly instead of hashed.
func exprName(b []byte) string {
	b = trimNUL(b)
	switch string(b) {
	case "payload":
		return "payload"
	case "cmp":
		return "cmp"
	case "counter":
		return "counter"
	case "match":
		return "match"
	case "target":
		return "target"
	case "immediate":
		return "immediate"
	case "meta":
		return "meta"
	case "bitwise":
		return "bitwise"
	case "range":
		return "range"
	}
	return internName(xprNames, b)
}

// unmarshalExprs splits an NFTA_RULE_EXPRESSIONS payload. Each xpr's data
// aliases b.
func unmarshalExprs(b []byte) ([]xpr, error) { return appendExprs(nil, b) }

func appendExprs(out []xpr, b []byte) ([]xpr, error) {
	it := attr.NewIter(b)
	for it.Next() {
		var x xpr
		el := it.Nested()
		for el.Next() {
			switch el.Kind() {
			case unix.NFTA_EXPR_NAME:
				x.name = exprName(el.Data())
			case unix.NFTA_EXPR_DATA:
				x.data = el.Data()
			}
		}
		if el.Err() != nil {
			return out, errors.New("malformed expression")
		}
		out = append(out, x)
	}
	if it.Err() != nil {
		return out, errors.New("malformed expression list")
	}
	return out, nil
}

func u32(b []byte) uint32 {
	if len(b) != 4 {
		return 0xffffffff
	}
	return binary.BigEndian.Uint32(b)
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// dataOf returns the NFTA_DATA_VALUE inside a data nest.
func dataOf(b []byte) []byte {
	it := attr.NewIter(b)
	for it.Next() {
		if it.Kind() == unix.NFTA_DATA_VALUE {
			return it.Data()
		}
	}
	return nil
}

var zeros [64]byte

func allZero(b []byte) bool {
	for len(b) > len(zeros) {
		if !bytes.Equal(b[:len(zeros)], zeros[:]) {
			return false
		}
		b = b[len(zeros):]
	}
	return bytes.Equal(b, zeros[:len(b)])
}

// ruleDec is the state of decoding one rule's expression list.
type ruleDec struct {
	f    Family
	list []xpr
	i    int
	a    attrs // attributes of the expression next() consumed
	r    *Rule
	// pool, when set, is where the rule and its extensions come from
	// (Save); see decPool.
	pool *decPool
	// tmp is reused to re-encode an xt info struct for comparison.
	tmp []byte
}

// newTCP and newUDP are NewTCP and NewUDP, from the pool when there is one.
func (d *ruleDec) newTCP() *TCP {
	if d.pool != nil {
		return d.pool.newTCP()
	}
	return NewTCP()
}

func (d *ruleDec) newUDP() *UDP {
	if d.pool != nil {
		return d.pool.newUDP()
	}
	return NewUDP()
}

// next consumes the current expression if it is called name and parses
// its attributes into d.a.
func (d *ruleDec) next(name string) bool {
	if d.i < len(d.list) && d.list[d.i].name == name && d.a.parse(d.list[d.i].data) {
		d.i++
		return true
	}
	return false
}

func (d *ruleDec) foreign(why string) error {
	name := "end"
	if d.i < len(d.list) {
		name = d.list[d.i].name
	}
	return fmt.Errorf("%w: expression %d (%s): %s", ErrForeign, d.i, name, why)
}

// cmpAfter reads an optional bitwise then a cmp on register 1.
func (d *ruleDec) cmpAfter() (mask, val []byte, op uint32, ok bool) {
	if d.next("bitwise") {
		if u32(d.a[unix.NFTA_BITWISE_SREG]) != 1 || u32(d.a[unix.NFTA_BITWISE_DREG]) != 1 {
			return nil, nil, 0, false
		}
		if !allZero(dataOf(d.a[unix.NFTA_BITWISE_XOR])) {
			return nil, nil, 0, false
		}
		mask = dataOf(d.a[unix.NFTA_BITWISE_MASK])
	}
	if !d.next("cmp") || u32(d.a[unix.NFTA_CMP_SREG]) != 1 {
		return nil, nil, 0, false
	}
	return mask, dataOf(d.a[unix.NFTA_CMP_DATA]), u32(d.a[unix.NFTA_CMP_OP]), true
}

// decodeRule turns expressions back into a Rule. Any shape iptables-nft
// 1.8.9 does not write yields an error wrapping ErrForeign.
func decodeRule(f Family, list []xpr) (*Rule, error) {
	d := ruleDec{f: f, list: list, r: &Rule{Family: f}}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.r, nil
}

func (d *ruleDec) decode() error {
	r := d.r
	for d.i < len(d.list) {
		x := d.list[d.i]
		if !d.next(x.name) {
			return d.foreign("malformed attributes")
		}
		switch x.name {
		case "meta":
			if d.a[unix.NFTA_META_SREG] != nil || u32(d.a[unix.NFTA_META_DREG]) != 1 {
				if ok, err := d.metaSet(); ok || err != nil {
					if err != nil {
						return err
					}
					continue
				}
				return d.foreign("meta set")
			}
			key := u32(d.a[unix.NFTA_META_KEY])
			switch key {
			case unix.NFT_META_IIFNAME, unix.NFT_META_OIFNAME:
				ifc := Iface{Name: "+"}
				if d.i < len(d.list) && d.list[d.i].name == "cmp" {
					mask, v, op, ok := d.cmpAfter()
					if !ok || mask != nil || op > unix.NFT_CMP_NEQ || len(v) == 0 {
						return d.foreign("interface compare")
					}
					if v[len(v)-1] == 0 {
						ifc.Name = string(bytes.TrimRight(v, "\x00"))
					} else {
						ifc.Name = string(v) + "+"
					}
					ifc.Invert = op == unix.NFT_CMP_NEQ
				}
				if key == unix.NFT_META_IIFNAME {
					r.In = ifc
				} else {
					r.Out = ifc
				}
			case unix.NFT_META_L4PROTO:
				mask, v, op, ok := d.cmpAfter()
				if !ok || mask != nil || op > unix.NFT_CMP_NEQ || len(v) != 1 {
					return d.foreign("protocol compare")
				}
				r.Protocol, r.ProtoInvert = v[0], op == unix.NFT_CMP_NEQ
			case unix.NFT_META_MARK:
				mask, v, op, ok := d.cmpAfter()
				if !ok || op > unix.NFT_CMP_NEQ || len(v) != 4 || (mask != nil && len(mask) != 4) {
					return d.foreign("mark compare")
				}
				var mk *Mark
				if d.pool != nil {
					mk = d.pool.marks.get()
				} else {
					mk = new(Mark)
				}
				*mk = Mark{Value: binary.LittleEndian.Uint32(v), Mask: 0xffffffff, Invert: op == unix.NFT_CMP_NEQ}
				if mask != nil {
					mk.Mask = binary.LittleEndian.Uint32(mask)
				}
				r.Matches = append(r.Matches, mk)
			default:
				return d.foreign("meta key")
			}
		case "payload":
			if err := d.payload(); err != nil {
				return err
			}
		case "match", "target":
			name := internName(xtNames, d.a[1])
			e := d.decodeXT(x.name == "target", name, uint8(u32(d.a[2])), d.a[3])
			if x.name == "match" {
				r.Matches = append(r.Matches, e.(Match))
			} else {
				r.Target = e.(Target)
			}
		case "limit":
			if u32(d.a[4]) != 0 || u32(d.a[5]) != 0 {
				return d.foreign("limit type/flags")
			}
			r.Matches = append(r.Matches, &Limit{Rate: u64(d.a[1]), Unit: u64(d.a[2]), Burst: u32(d.a[3])})
		case "counter":
			r.Counters = Counters{Packets: u64(d.a[unix.NFTA_COUNTER_PACKETS]), Bytes: u64(d.a[unix.NFTA_COUNTER_BYTES])}
		case "immediate":
			if u32(d.a[unix.NFTA_IMMEDIATE_DREG]) != 0 {
				if ok, err := d.immediateLoad(); ok || err != nil {
					if err != nil {
						return err
					}
					continue
				}
				return d.foreign("immediate")
			}
			if d.i != len(d.list) {
				return d.foreign("immediate")
			}
			code, chain, err := verdictOf(d.a[unix.NFTA_IMMEDIATE_DATA])
			if err != nil {
				return d.foreign(err.Error())
			}
			if d.pool != nil && (code == -3 || code == -4) {
				d.pool.jump = Jump{Chain: d.pool.intern(chain), Goto: code == -4}
				r.Target = &d.pool.jump
				continue
			}
			t, err := verdictTarget(code, chain)
			if err != nil {
				return d.foreign(err.Error())
			}
			r.Target = t
		case "log":
			if err := d.nflog(); err != nil {
				return err
			}
		default:
			return d.foreign("expression type")
		}
	}
	return nil
}

// payload decodes a network-header compare (-s, -d, -f) or hands a
// transport-header one to decodeTransport.
func (d *ruleDec) payload() error {
	r, f := d.r, d.f
	if u32(d.a[unix.NFTA_PAYLOAD_DREG]) != 1 {
		return d.foreign("payload register")
	}
	base, off, n := u32(d.a[unix.NFTA_PAYLOAD_BASE]), u32(d.a[unix.NFTA_PAYLOAD_OFFSET]), u32(d.a[unix.NFTA_PAYLOAD_LEN])
	if base == unix.NFT_PAYLOAD_TRANSPORT_HEADER {
		if err := d.transport(off, n); err != nil {
			return d.foreign(err.Error())
		}
		return nil
	}
	if base != unix.NFT_PAYLOAD_NETWORK_HEADER {
		return d.foreign("payload base")
	}
	mask, v, op, ok := d.cmpAfter()
	if !ok || op > unix.NFT_CMP_NEQ || len(v) != int(n) {
		return d.foreign("payload compare")
	}
	if f == IPv4 && off == 6 && n == 2 && bytes.Equal(mask, []byte{0x1f, 0xff}) && bytes.Equal(v, []byte{0, 0}) {
		r.Fragment = 1
		if op == unix.NFT_CMP_EQ {
			r.Fragment = -1
		}
		return nil
	}
	srcOff, dstOff := uint32(12), uint32(16)
	if f == IPv6 {
		srcOff, dstOff = 8, 24
	}
	al := f.addrLen()
	if (off != srcOff && off != dstOff) || int(n) > al {
		return d.foreign("payload offset")
	}
	var full, mk [16]byte
	copy(full[:], v)
	if mask != nil {
		if len(mask) != al || int(n) != al {
			return d.foreign("address mask")
		}
		copy(mk[:], mask)
	} else {
		for j := 0; j < int(n); j++ {
			mk[j] = 0xff
		}
	}
	ad := Addr{Addr: addrOf(full, al), Mask: addrOf(mk, al), Invert: op == unix.NFT_CMP_NEQ}
	if off == srcOff {
		r.Src = ad
	} else {
		r.Dst = ad
	}
	return nil
}

func addrOf(b [16]byte, n int) netip.Addr {
	if n == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// verdictOf reads a verdict data nest: the code and, for jump and goto,
// the chain name (aliasing b).
func verdictOf(b []byte) (int32, []byte, error) {
	var code int32
	var chain []byte
	it := attr.NewIter(b)
	for it.Next() {
		if it.Kind() != unix.NFTA_DATA_VERDICT {
			continue
		}
		v := it.Nested()
		for v.Next() {
			switch v.Kind() {
			case unix.NFTA_VERDICT_CODE:
				if v.Len() != 4 {
					return 0, nil, errors.New("malformed verdict code")
				}
				code = int32(v.U32())
			case unix.NFTA_VERDICT_CHAIN:
				chain = bytes.TrimRight(v.Data(), "\x00")
			}
		}
		it.Join(&v)
	}
	if it.Err() != nil {
		return 0, nil, errors.New("malformed verdict")
	}
	return code, chain, nil
}

func verdictTarget(code int32, chain []byte) (Target, error) {
	switch code {
	case 1:
		return Accept, nil
	case 0:
		return Drop, nil
	case -5:
		return Return, nil
	case 3:
		return Queue, nil
	case -3:
		return &Jump{Chain: string(chain)}, nil
	case -4:
		return &Jump{Chain: string(chain), Goto: true}, nil
	}
	return nil, fmt.Errorf("verdict %d", code)
}

// transport folds a native transport-header compare into the rule's
// tcp/udp match.
func (d *ruleDec) transport(off, n uint32) error {
	r := d.r
	var isTCP bool
	switch r.Protocol {
	case 6:
		isTCP = true
	case 17:
	default:
		return errors.New("transport header without -p tcp/udp")
	}
	if r.ProtoInvert {
		return errors.New("transport header with inverted protocol")
	}
	// The tcp/udp match this compare belongs to is the last match if it is
	// a native one of that protocol, else a new one.
	var tcp *TCP
	var udp *UDP
	if k := len(r.Matches); k > 0 {
		switch m := r.Matches[k-1].(type) {
		case *TCP:
			if isTCP {
				tcp = m
			}
		case *UDP:
			if !isTCP {
				udp = m
			}
		}
	}
	if isTCP && tcp == nil {
		tcp = d.newTCP()
		r.Matches = append(r.Matches, tcp)
	}
	if !isTCP && udp == nil {
		udp = d.newUDP()
		r.Matches = append(r.Matches, udp)
	}
	var mask []byte
	if d.next("bitwise") {
		mask = dataOf(d.a[unix.NFTA_BITWISE_MASK])
	}
	var lo, hi []byte
	var op uint32
	isRange := false
	if d.next("cmp") {
		lo, op = dataOf(d.a[unix.NFTA_CMP_DATA]), u32(d.a[unix.NFTA_CMP_OP])
	} else if d.next("range") {
		lo, hi, op, isRange = dataOf(d.a[3]), dataOf(d.a[4]), u32(d.a[2]), true
	} else {
		return errors.New("transport header without compare")
	}
	switch {
	case off == 13 && n == 1 && tcp != nil && len(mask) == 1 && len(lo) == 1 && !isRange && op <= 1:
		tcp.FlagMask, tcp.FlagCmp, tcp.FlagsInv = mask[0], lo[0], op == 1
		return nil
	case off == 0 && n == 4 && mask == nil && !isRange && op == 0 && len(lo) == 4:
		s, dp := binary.BigEndian.Uint16(lo), binary.BigEndian.Uint16(lo[2:])
		if tcp != nil {
			tcp.Src, tcp.Dst = PortRange{s, s}, PortRange{dp, dp}
		} else {
			udp.Src, udp.Dst = PortRange{s, s}, PortRange{dp, dp}
		}
		return nil
	case (off == 0 || off == 2) && n == 2 && mask == nil && len(lo) == 2:
		v := binary.BigEndian.Uint16(lo)
		var pr PortRange
		var inv bool
		switch {
		case isRange && len(hi) == 2 && op <= 1:
			pr, inv = PortRange{v, binary.BigEndian.Uint16(hi)}, op == 1
		case !isRange && op <= 1:
			pr, inv = PortRange{v, v}, op == 1
		case !isRange && op == unix.NFT_CMP_LTE:
			pr = PortRange{0, v}
		case !isRange && op == unix.NFT_CMP_GT:
			pr, inv = PortRange{0, v}, true
		default:
			return errors.New("port compare")
		}
		switch {
		case tcp != nil && off == 0:
			tcp.Src, tcp.SrcInv = pr, inv
		case tcp != nil:
			tcp.Dst, tcp.DstInv = pr, inv
		case off == 0:
			udp.Src, udp.SrcInv = pr, inv
		default:
			udp.Dst, udp.DstInv = pr, inv
		}
		return nil
	}
	return errors.New("transport header compare")
}

// infoEqualer is implemented by extensions that can tell, without
// re-encoding, whether their info struct would re-encode to exactly b
// (the hot ones: a comment's info is 256 bytes).
type infoEqualer interface{ infoEqual(f Family, b []byte) bool }

// revisioned is implemented by extensions that read and write several
// revisions; setRevision reports whether rev is one of them.
type revisioned interface{ setRevision(rev uint8) bool }

// decodeXT builds the typed extension for an xt match/target, or an
// opaque Extension for one nfkit has no type for or whose info would not
// re-encode to exactly the bytes iptables-nft wrote.
func (d *ruleDec) decodeXT(target bool, name string, rev uint8, info []byte) ext {
	f := d.f
	var e ext
	if d.pool != nil {
		e = d.pool.newExt(target, name)
	}
	switch {
	case e != nil:
	case target:
		if t := newTarget(name, f); t != nil {
			if _, isV := t.(*Verdict); !isV {
				e = t
			}
		}
	default:
		if m := newMatch(name, f); m != nil {
			e = m
		}
	}
	opaque := func() ext {
		return &Extension{ExtName: name, Rev: rev, Info: bytes.Clone(info), IsTarget: target}
	}
	if e == nil {
		return opaque()
	}
	if rv, ok := e.(revisioned); ok && !rv.setRevision(rev) {
		return opaque()
	}
	// The revision is checked after setInfo: NAT's depends on the family
	// setInfo records.
	if c, ok := e.(*Comment); ok && d.pool != nil {
		if text, ok := d.pool.commentText(info); ok {
			c.Text = text
		} else if err := e.setInfo(f, info); err != nil {
			return opaque()
		}
	} else if err := e.setInfo(f, info); err != nil {
		return opaque()
	}
	if e.Revision() != rev {
		return opaque()
	}
	if ie, ok := e.(infoEqualer); ok {
		if !ie.infoEqual(f, info) {
			return opaque()
		}
	} else if ia, ok := e.(infoAppender); ok {
		d.tmp = ia.appendInfo(d.tmp[:0], f)
		if !bytes.Equal(d.tmp, info) {
			return opaque()
		}
	} else if !bytes.Equal(e.info(f), info) { // keep exactly what was written
		return opaque()
	}
	if m, ok := e.(Match); ok && nativeMatch(m) {
		// iptables-nft writes this one natively: an xt form of it is not
		// iptables-nft's, and nfkit would re-encode it differently.
		return opaque()
	}
	return e
}

// nativeMatch reports whether iptables-nft writes m as native
// expressions rather than an xt match: whether encodeNativeMatch would
// (checked without encoding, for every listed tcp/udp match).
func nativeMatch(m Match) bool {
	switch m := m.(type) {
	case *Mark, *Limit:
		return true
	case *TCP:
		return !(m.Option != 0 || m.OptionInv || (m.Src.isAny() && !m.SrcInv && m.Dst.isAny() && !m.DstInv && m.FlagMask == 0 && !m.FlagsInv))
	case *UDP:
		return !(m.Src.isAny() && !m.SrcInv && m.Dst.isAny() && !m.DstInv)
	}
	return false
}

// infoAppender is implemented by extensions that append their info
// struct to a buffer, so that decodeXT compares it with what was listed
// without allocating one per rule.
type infoAppender interface {
	appendInfo(dst []byte, f Family) []byte
}

// xtNames interns the xt extension names a listing carries.
var xtNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range xtKnownNames {
		m[n] = n
	}
	return m
}()

var xtKnownNames = []string{"tcp", "udp", "icmp", "icmp6", "comment", "mark", "connmark", "statistic",
	"addrtype", "multiport", "limit", "conntrack", "state", "DNAT", "SNAT", "MASQUERADE", "REDIRECT",
	"NETMAP", "MARK", "CONNMARK", "REJECT", "LOG", "pkttype", "length", "ttl", "hl", "mac", "helper", "dscp",
	"tos", "iprange", "owner", "TCPMSS", "DSCP", "TOS", "TTL", "HL", "CHECKSUM", "CLASSIFY", "NFQUEUE", "CT",
	"socket", "rpfilter", "cgroup", "connlimit", "sctp", "physdev", "set", "SET",
	"string", "time", "recent", "policy", "TPROXY", "hashlimit"}

// metaSet decodes a meta statement iptables-nft writes (none outside the
// TRACE pair, which immediateLoad consumes whole).
func (d *ruleDec) metaSet() (bool, error) { return false, nil }

// immediateLoad decodes an immediate into a register other than the
// verdict one: iptables-nft's -j TRACE is "immediate reg 9 1; meta set
// nftrace reg 9", as the rule's last two expressions.
func (d *ruleDec) immediateLoad() (bool, error) {
	if u32(d.a[unix.NFTA_IMMEDIATE_DREG]) != 9 || !bytes.Equal(dataOf(d.a[unix.NFTA_IMMEDIATE_DATA]), []byte{1}) {
		return false, nil
	}
	if !d.next("meta") || d.i != len(d.list) || u32(d.a[unix.NFTA_META_KEY]) != unix.NFT_META_NFTRACE ||
		u32(d.a[unix.NFTA_META_SREG]) != 9 || d.a[unix.NFTA_META_DREG] != nil {
		return false, d.foreign("immediate/meta pair other than TRACE")
	}
	d.r.Target = &TRACE{}
	return true, nil
}
