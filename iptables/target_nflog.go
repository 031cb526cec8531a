package iptables

import (
	"encoding/binary"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// NFLOG is -j NFLOG. iptables-nft 1.8.9 writes it natively, as an
// nf_tables log expression (the xt NFLOG target is never sent): prefix
// (if any), group, snaplen (--nflog-size) and queue threshold (if not 0).
// --nflog-range is accepted and ignored, as iptables-nft does (it never
// worked in the kernel).
type NFLOG struct {
	Group  uint16
	Prefix string // at most 63 bytes
	// Size is --nflog-size, sent only when HasSize is set (0 is a valid
	// size that iptables-save prints).
	Size    uint32
	HasSize bool
	// Threshold is --nflog-threshold; 0 sends none.
	Threshold uint16
}

func (t *NFLOG) Name() string    { return "NFLOG" }
func (t *NFLOG) Revision() uint8 { return 0 }
func (t *NFLOG) isTarget()       {}
func (t *NFLOG) check(Family) error {
	if len(t.Prefix) > 63 {
		return invalid("NFLOG prefix %q longer than 63 bytes", t.Prefix)
	}
	return nil
}
func (t *NFLOG) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--nflog-group":
		v, err := p.uint(opt, 0, 0xffff)
		t.Group = uint16(v)
		return true, err
	case "--nflog-prefix":
		s, err := p.value(opt)
		if err == nil && s == "" {
			err = p.bad(s, "NFLOG prefix must not be empty")
		}
		t.Prefix = s
		return true, err
	case "--nflog-size":
		v, err := p.uint(opt, 0, 0xffffffff)
		t.Size, t.HasSize = uint32(v), true
		return true, err
	case "--nflog-range":
		_, err := p.uint(opt, 0, 0xffffffff)
		return true, err
	case "--nflog-threshold":
		v, err := p.uint(opt, 0, 0xffff)
		t.Threshold = uint16(v)
		return true, err
	}
	return false, nil
}

// save prints as libxt_NFLOG does for the log expression iptables-nft
// reads back.
func (t *NFLOG) save(b *textBuf, _ Family) {
	if t.Prefix != "" {
		b.WriteString(" --nflog-prefix")
		quote(b, t.Prefix)
	}
	if t.Group != 0 {
		b.WriteString(" --nflog-group " + strconv.Itoa(int(t.Group)))
	}
	if t.HasSize {
		b.WriteString(" --nflog-size " + strconv.FormatUint(uint64(t.Size), 10))
	}
	if t.Threshold != 0 {
		b.WriteString(" --nflog-threshold " + strconv.Itoa(int(t.Threshold)))
	}
}

// info and setInfo are unused: the target is a native expression.
func (t *NFLOG) info(Family) []byte           { return nil }
func (t *NFLOG) setInfo(Family, []byte) error { return nil }

// nflog writes the log expression, attributes in libnftnl's order.
func (e *enc) nflog(t *NFLOG) {
	el, d := e.begin("log")
	if t.Prefix != "" {
		e.w.String(unix.NFTA_LOG_PREFIX, t.Prefix)
	}
	e.w.Bytes(unix.NFTA_LOG_GROUP, binary.BigEndian.AppendUint16(nil, t.Group))
	if t.HasSize {
		e.w.U32(unix.NFTA_LOG_SNAPLEN, t.Size)
	}
	if t.Threshold != 0 {
		e.w.Bytes(unix.NFTA_LOG_QTHRESHOLD, binary.BigEndian.AppendUint16(nil, t.Threshold))
	}
	e.end(el, d)
}

// nflog decodes the log expression iptables-nft writes for -j NFLOG: the
// last expression, with exactly the attributes nflog writes (a log level
// or flags, or a log without a group, is nft's `log` statement, which
// iptables-nft would not have written).
func (d *ruleDec) nflog() error {
	if d.i != len(d.list) {
		return d.foreign("log expression before the end")
	}
	t := &NFLOG{}
	data := d.list[d.i-1].data
	want := []uint16{unix.NFTA_LOG_PREFIX, unix.NFTA_LOG_GROUP, unix.NFTA_LOG_SNAPLEN, unix.NFTA_LOG_QTHRESHOLD}
	group := false
	it := attr.NewIter(data)
	for it.Next() {
		typ, v := it.Kind(), it.Data()
		for len(want) > 0 && want[0] != typ {
			want = want[1:]
		}
		if len(want) == 0 {
			return d.foreign("log attribute order or type")
		}
		want = want[1:]
		switch typ {
		case unix.NFTA_LOG_PREFIX:
			if len(v) < 2 || v[len(v)-1] != 0 || strings.IndexByte(string(v[:len(v)-1]), 0) >= 0 {
				return d.foreign("log prefix")
			}
			t.Prefix = string(v[:len(v)-1])
		case unix.NFTA_LOG_GROUP:
			if len(v) != 2 {
				return d.foreign("log group")
			}
			t.Group, group = binary.BigEndian.Uint16(v), true
		case unix.NFTA_LOG_SNAPLEN:
			if len(v) != 4 {
				return d.foreign("log snaplen")
			}
			t.Size, t.HasSize = binary.BigEndian.Uint32(v), true
		case unix.NFTA_LOG_QTHRESHOLD:
			if len(v) != 2 || binary.BigEndian.Uint16(v) == 0 {
				return d.foreign("log queue threshold")
			}
			t.Threshold = binary.BigEndian.Uint16(v)
		}
	}
	if it.Err() != nil {
		return d.foreign("log attributes")
	}
	if !group || len(t.Prefix) > 63 {
		return d.foreign("log without a group")
	}
	d.r.Target = t
	return nil
}
