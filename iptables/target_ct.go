package iptables

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CT is -j CT (struct xt_ct_target_info_v1, revision 2), and -j NOTRACK,
// which iptables-nft writes as CT with the notrack alias flag and saves as
// "-j NOTRACK". Zone marks (--zone-orig mark ...) are not typed: such a
// rule reads as an opaque extension.
type CT struct {
	Notrack bool
	// Alias marks the NOTRACK spelling (XT_CT_NOTRACK_ALIAS).
	Alias     bool
	Helper    string // up to 15 bytes
	Timeout   string // timeout policy name, up to 31 bytes
	CtEvents  []string
	ExpEvents []string
	Zone      uint16
	// ZoneDir is "", "orig" or "reply" (--zone-orig / --zone-reply).
	ZoneDir string
}

const (
	ctNotrack      = 1
	ctNotrackAlias = 2
	ctZoneOrig     = 4
	ctZoneReply    = 8
)

var ctEventNames = []string{"new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark",
	"natseqinfo", "secmark"}

func (t *CT) Name() string    { return "CT" }
func (t *CT) Revision() uint8 { return 2 }
func (t *CT) isTarget()       {}
func (t *CT) saveName() string {
	if t.Alias {
		return "NOTRACK"
	}
	return "CT"
}
func (t *CT) check(Family) error {
	if len(t.Helper) > 15 || len(t.Timeout) > 31 {
		return invalid("CT: helper %q or timeout %q too long", t.Helper, t.Timeout)
	}
	if t.ZoneDir != "" && t.ZoneDir != "orig" && t.ZoneDir != "reply" {
		return invalid("CT: zone direction %q", t.ZoneDir)
	}
	if t.Alias && !t.Notrack {
		return invalid("CT: NOTRACK alias without notrack")
	}
	if _, err := eventBits(t.CtEvents, ctEventNames); err != nil {
		return invalid("CT: %v", err)
	}
	if _, err := eventBits(t.ExpEvents, ctEventNames[:1]); err != nil {
		return invalid("CT: %v", err)
	}
	return nil
}

func eventBits(list, names []string) (uint32, error) {
	var v uint32
	for _, e := range list {
		found := false
		for i, n := range names {
			if e == n {
				v |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown event %q", e)
		}
	}
	return v, nil
}

func eventNames(v uint32, names []string) []string {
	var out []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (t *CT) parse(p *optParser, opt string, inv bool) (bool, error) {
	var err error
	switch opt {
	case "--notrack":
		t.Notrack = true
	case "--helper":
		t.Helper, err = p.value(opt)
	case "--timeout":
		t.Timeout, err = p.value(opt)
	case "--ctevents", "--expevents":
		var s string
		if s, err = p.value(opt); err != nil {
			return true, err
		}
		l := strings.Split(s, ",")
		names := ctEventNames
		if opt == "--expevents" {
			names = names[:1]
			t.ExpEvents = l
		} else {
			t.CtEvents = l
		}
		if _, e := eventBits(l, names); e != nil {
			return true, p.bad(s, "%v", e)
		}
	case "--zone", "--zone-orig", "--zone-reply":
		var v uint64
		v, err = p.uint(opt, 0, 0xffff)
		t.Zone, t.ZoneDir = uint16(v), strings.TrimPrefix(strings.TrimPrefix(opt, "--zone"), "-")
	default:
		return false, nil
	}
	if err == nil {
		err = noInv(p, opt, inv)
	}
	return true, err
}
func (t *CT) save(b *textBuf, _ Family) {
	if t.Alias {
		return
	}
	if t.Notrack {
		b.WriteString(" --notrack")
		return
	}
	if t.Helper != "" {
		b.WriteString(" --helper " + t.Helper)
	}
	if t.Timeout != "" {
		b.WriteString(" --timeout " + t.Timeout)
	}
	if len(t.CtEvents) > 0 {
		v, _ := eventBits(t.CtEvents, ctEventNames)
		b.WriteString(" --ctevents " + strings.Join(eventNames(v, ctEventNames), ","))
	}
	if len(t.ExpEvents) > 0 {
		b.WriteString(" --expevents new")
	}
	if t.Zone != 0 || t.ZoneDir != "" {
		dir := ""
		if t.ZoneDir != "" {
			dir = "-" + t.ZoneDir
		}
		b.WriteString(" --zone" + dir + " " + strconv.Itoa(int(t.Zone)))
	}
}
func (t *CT) info(Family) []byte {
	w := newWB(72)
	var flags uint16
	if t.Notrack {
		flags |= ctNotrack
	}
	if t.Alias {
		flags |= ctNotrackAlias
	}
	switch t.ZoneDir {
	case "orig":
		flags |= ctZoneOrig
	case "reply":
		flags |= ctZoneReply
	}
	w.u16(0, flags)
	w.u16(2, t.Zone)
	ce, _ := eventBits(t.CtEvents, ctEventNames)
	ee, _ := eventBits(t.ExpEvents, ctEventNames[:1])
	w.u32(4, ce)
	w.u32(8, ee)
	w.str(12, 16, t.Helper)
	w.str(28, 32, t.Timeout)
	return w.b
}
func (t *CT) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	flags := r.u16(0)
	if flags&^(ctNotrack|ctNotrackAlias|ctZoneOrig|ctZoneReply) != 0 || flags&ctZoneOrig != 0 && flags&ctZoneReply != 0 {
		return fmt.Errorf("CT flags %#x", flags)
	}
	*t = CT{Notrack: flags&ctNotrack != 0, Alias: flags&ctNotrackAlias != 0, Zone: r.u16(2),
		CtEvents: eventNames(r.u32(4), ctEventNames), ExpEvents: eventNames(r.u32(8), ctEventNames[:1]),
		Helper: r.str(12, 16), Timeout: r.str(28, 32)}
	switch {
	case flags&ctZoneOrig != 0:
		t.ZoneDir = "orig"
	case flags&ctZoneReply != 0:
		t.ZoneDir = "reply"
	}
	return r.err("CT", 72)
}

// TRACE is -j TRACE. iptables-nft writes it natively, as "immediate reg 9
// 1; meta set nftrace reg 9", not as the xt TRACE target.
type TRACE struct{}

func (t *TRACE) Name() string                                 { return "TRACE" }
func (t *TRACE) Revision() uint8                              { return 0 }
func (t *TRACE) isTarget()                                    {}
func (t *TRACE) check(Family) error                           { return nil }
func (t *TRACE) parse(*optParser, string, bool) (bool, error) { return false, nil }
func (t *TRACE) save(*textBuf, Family)                        {}
func (t *TRACE) info(Family) []byte                           { return nil }
func (t *TRACE) setInfo(Family, []byte) error                 { return nil }

// trace writes iptables-nft's native TRACE.
func (e *enc) trace() {
	el, d := e.begin("immediate")
	e.w.U32(unix.NFTA_IMMEDIATE_DREG, 9)
	putData(&e.w, unix.NFTA_IMMEDIATE_DATA, []byte{1})
	e.end(el, d)
	el, d = e.begin("meta")
	e.w.U32(unix.NFTA_META_KEY, unix.NFT_META_NFTRACE)
	e.w.U32(unix.NFTA_META_SREG, 9)
	e.end(el, d)
}
