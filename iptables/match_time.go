package iptables

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time is -m time (struct xt_time_info). Dates are seconds since the
// epoch, always printed in UTC (as iptables-save does, whatever TZ is);
// times of day are seconds after midnight, UTC unless KernelTZ.
type Time struct {
	DateStart, DateStop uint32 // --datestart / --datestop (0 and 2^31-1: open)
	DayStart, DayStop   uint32 // --timestart / --timestop, seconds 0..86399
	Monthdays           uint32 // bit N for day N (1..31); all: 0xfffffffe
	Weekdays            uint8  // bit 1 Monday .. bit 7 Sunday; all: 0xfe
	KernelTZ            bool   // --kerneltz
	Contiguous          bool   // --contiguous
}

const (
	timeAllMonthdays = 0xfffffffe // XT_TIME_ALL_MONTHDAYS
	timeAllWeekdays  = 0xfe       // XT_TIME_ALL_WEEKDAYS
	timeMaxDaytime   = 86399      // XT_TIME_MAX_DAYTIME
	timeMaxDate      = 1<<31 - 1  // iptables' default --datestop (INT_MAX)
)

var weekdayNames = []string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// NewTime returns a Time matching always, with iptables' defaults.
func NewTime() *Time {
	return &Time{DateStop: timeMaxDate, DayStop: timeMaxDaytime, Monthdays: timeAllMonthdays, Weekdays: timeAllWeekdays}
}

func (m *Time) Name() string    { return "time" }
func (m *Time) Revision() uint8 { return 0 }
func (m *Time) isMatch()        {}
func (m *Time) check(Family) error {
	if m.DayStart > timeMaxDaytime || m.DayStop > timeMaxDaytime {
		return invalid("time: time of day %d/%d past %d", m.DayStart, m.DayStop, timeMaxDaytime)
	}
	if m.Weekdays&1 != 0 || m.Monthdays&1 != 0 {
		return invalid("time: weekdays %#x / monthdays %#x use bit 0", m.Weekdays, m.Monthdays)
	}
	return nil
}
func (m *Time) parse(p *optParser, opt string, inv bool) (bool, error) {
	switch opt {
	case "--datestart", "--datestop":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		d, err := parseTimeDate(s)
		if err != nil {
			return true, p.bad(s, "%s: %v", opt, err)
		}
		if opt == "--datestart" {
			m.DateStart = d
		} else {
			m.DateStop = d
		}
		return true, nil
	case "--timestart", "--timestop":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		d, err := parseDaytime(s)
		if err != nil {
			return true, p.bad(s, "%s: %v", opt, err)
		}
		if opt == "--timestart" {
			m.DayStart = d
		} else {
			m.DayStop = d
		}
		return true, nil
	case "--weekdays":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		var w uint8
		for _, d := range strings.Split(s, ",") {
			n := -1
			for i := 1; i < len(weekdayNames); i++ {
				if strings.EqualFold(d, weekdayNames[i]) {
					n = i
				}
			}
			if v, err := strconv.Atoi(d); err == nil && v >= 1 && v <= 7 {
				n = v
			}
			if n < 0 {
				return true, p.bad(s, "--weekdays: %q", d)
			}
			w |= 1 << n
		}
		if inv {
			w ^= timeAllWeekdays
		}
		m.Weekdays = w
		return true, nil
	case "--monthdays":
		s, err := p.value(opt)
		if err != nil {
			return true, err
		}
		var md uint32
		for _, d := range strings.Split(s, ",") {
			v, err := strconv.Atoi(d)
			if err != nil || v < 1 || v > 31 {
				return true, p.bad(s, "--monthdays: %q", d)
			}
			md |= 1 << v
		}
		if inv {
			md ^= timeAllMonthdays
		}
		m.Monthdays = md
		return true, nil
	case "--kerneltz", "--localtz":
		m.KernelTZ = true
		return true, nil
	case "--utc":
		m.KernelTZ = false
		return true, nil
	case "--contiguous":
		m.Contiguous = true
		return true, nil
	}
	return false, nil
}

// parseTimeDate reads YYYY[-MM[-DD[Thh[:mm[:ss]]]]] as UTC.
func parseTimeDate(s string) (uint32, error) {
	layouts := []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02", "2006-01", "2006"}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			u := t.Unix()
			if u < 0 || u > timeMaxDate {
				return 0, fmt.Errorf("date %s out of range", s)
			}
			return uint32(u), nil
		}
	}
	return 0, fmt.Errorf("bad date %q", s)
}

// parseDaytime reads hh:mm[:ss].
func parseDaytime(s string) (uint32, error) {
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 {
		return 0, fmt.Errorf("bad time %q (hh:mm[:ss])", s)
	}
	limits := []int{23, 59, 59}
	var v [3]int
	for i, x := range f {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 || n > limits[i] {
			return 0, fmt.Errorf("bad time %q", s)
		}
		v[i] = n
	}
	return uint32(v[0]*3600 + v[1]*60 + v[2]), nil
}

func (m *Time) save(b *textBuf, _ Family) {
	if m.DayStart != 0 || m.DayStop != timeMaxDaytime {
		hms := func(t uint32) string {
			return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
		}
		b.WriteString(" --timestart " + hms(m.DayStart) + " --timestop " + hms(m.DayStop))
	}
	if m.Monthdays != timeAllMonthdays {
		b.WriteString(" --monthdays")
		sep := " "
		for i := 1; i <= 31; i++ {
			if m.Monthdays&(1<<i) != 0 {
				b.WriteString(sep + strconv.Itoa(i))
				sep = ","
			}
		}
	}
	if m.Weekdays != timeAllWeekdays {
		b.WriteString(" --weekdays")
		sep := " "
		for i := 1; i <= 7; i++ {
			if m.Weekdays&(1<<i) != 0 {
				b.WriteString(sep + weekdayNames[i])
				sep = ","
			}
		}
	}
	for i, d := range []uint32{m.DateStart, m.DateStop} {
		if d == 0 {
			continue
		}
		b.WriteString([]string{" --datestart ", " --datestop "}[i])
		b.WriteString(time.Unix(int64(d), 0).UTC().Format("2006-01-02T15:04:05"))
	}
	if m.KernelTZ {
		b.WriteString(" --kerneltz")
	}
	if m.Contiguous {
		b.WriteString(" --contiguous")
	}
}

// date_start, date_stop, daytime_start, daytime_stop, monthdays_match
// (u32 each), weekdays_match, flags: 22 bytes, 24 aligned.
func (m *Time) info(Family) []byte {
	w := newWB(22)
	w.u32(0, m.DateStart)
	w.u32(4, m.DateStop)
	w.u32(8, m.DayStart)
	w.u32(12, m.DayStop)
	w.u32(16, m.Monthdays)
	w.u8(20, m.Weekdays)
	var f uint8
	if m.KernelTZ {
		f |= 1 // XT_TIME_LOCAL_TZ
	}
	if m.Contiguous {
		f |= 2 // XT_TIME_CONTIGUOUS
	}
	w.u8(21, f)
	return w.b
}
func (m *Time) setInfo(_ Family, b []byte) error {
	r := &rb{b: b}
	m.DateStart, m.DateStop, m.DayStart, m.DayStop = r.u32(0), r.u32(4), r.u32(8), r.u32(12)
	m.Monthdays, m.Weekdays = r.u32(16), r.u8(20)
	f := r.u8(21)
	m.KernelTZ, m.Contiguous = f&1 != 0, f&2 != 0
	if f&^3 != 0 {
		return fmt.Errorf("time: flags %#x", f)
	}
	return r.err("time", 22)
}
