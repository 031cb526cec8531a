package conntrack

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/nfnl"
)

// CPUStats are one CPU's conntrack counters (`conntrack -S`). Counters the
// kernel no longer maintains stay 0.
type CPUStats struct {
	CPU           uint16
	Searched      uint32
	Found         uint32
	New           uint32
	Invalid       uint32
	Ignore        uint32
	Delete        uint32
	DeleteList    uint32
	Insert        uint32
	InsertFailed  uint32
	Drop          uint32
	EarlyDrop     uint32
	Error         uint32
	SearchRestart uint32
	ClashResolve  uint32
	ChainTooLong  uint32
	Unknown       []Attr
}

// ExpectationCPUStats are one CPU's expectation counters.
type ExpectationCPUStats struct {
	CPU                 uint16
	New, Create, Delete uint32
	Unknown             []Attr
}

// Stats returns the per-CPU statistics, like `conntrack -S`.
func (c *Conn) Stats(ctx context.Context) ([]CPUStats, error) {
	req := request(unix.NFNL_SUBSYS_CTNETLINK, ctMsgGetStatsCPU, 0, FamilyAny, nil)
	var out []CPUStats
	for m, err := range c.nl.Dump(ctx, req) {
		if err != nil {
			return out, withContext(err, "get conntrack statistics", "")
		}
		h, b, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return out, err
		}
		s := CPUStats{CPU: h.ResourceID}
		if err := s.unmarshal(b); err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (s *CPUStats) unmarshal(b []byte) error {
	w := newWalker(b)
	fields := map[uint16]*uint32{
		ctaStatsSearched: &s.Searched, ctaStatsFound: &s.Found, ctaStatsNew: &s.New,
		ctaStatsInvalid: &s.Invalid, ctaStatsIgnore: &s.Ignore, ctaStatsDelete: &s.Delete,
		ctaStatsDeleteList: &s.DeleteList, ctaStatsInsert: &s.Insert, ctaStatsInsertFailed: &s.InsertFailed,
		ctaStatsDrop: &s.Drop, ctaStatsEarlyDrop: &s.EarlyDrop, ctaStatsError: &s.Error,
		ctaStatsSearchRestart: &s.SearchRestart, ctaStatsClashResolve: &s.ClashResolve,
		ctaStatsChainTooLong: &s.ChainTooLong,
	}
	for w.Next() {
		if p, ok := fields[w.Kind()]; ok && len(w.Data()) == 4 {
			*p = w.u32("CTA_STATS")
			continue
		}
		s.Unknown = append(s.Unknown, w.raw())
	}
	return w.err()
}

// Count returns the number of flows in the table (`conntrack -C`) and the
// table's limit (net.netfilter.nf_conntrack_max).
func (c *Conn) Count(ctx context.Context) (int, error) {
	n, _, err := c.count(ctx)
	return n, err
}

// CountMax returns the number of flows and the table limit.
func (c *Conn) CountMax(ctx context.Context) (count, max int, err error) {
	return c.count(ctx)
}

func (c *Conn) count(ctx context.Context) (int, int, error) {
	req := request(unix.NFNL_SUBSYS_CTNETLINK, ctMsgGetStats, 0, FamilyAny, nil)
	replies, err := c.execute(ctx, req, "count flows", "")
	if err != nil {
		return 0, 0, err
	}
	var n, max int
	for _, m := range replies {
		_, b, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return 0, 0, err
		}
		w := newWalker(b)
		for w.Next() {
			switch w.Kind() {
			case ctaStatsGlobalEntries:
				n = int(w.u32("CTA_STATS_GLOBAL_ENTRIES"))
			case ctaStatsGlobalMaxEntries:
				max = int(w.u32("CTA_STATS_GLOBAL_MAX_ENTRIES"))
			}
		}
		if err := w.err(); err != nil {
			return 0, 0, err
		}
	}
	return n, max, nil
}

// ExpectationStats returns the per-CPU expectation statistics
// (`conntrack -S expect`).
func (c *Conn) ExpectationStats(ctx context.Context) ([]ExpectationCPUStats, error) {
	req := request(unix.NFNL_SUBSYS_CTNETLINK_EXP, expMsgGetStatsCPU, 0, FamilyAny, nil)
	var out []ExpectationCPUStats
	for m, err := range c.nl.Dump(ctx, req) {
		if err != nil {
			return out, withContext(err, "get expectation statistics", "")
		}
		h, b, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return out, err
		}
		s := ExpectationCPUStats{CPU: h.ResourceID}
		w := newWalker(b)
		for w.Next() {
			switch w.Kind() {
			case ctaStatsExpNew:
				s.New = w.u32("CTA_STATS_EXP_NEW")
			case ctaStatsExpCreate:
				s.Create = w.u32("CTA_STATS_EXP_CREATE")
			case ctaStatsExpDelete:
				s.Delete = w.u32("CTA_STATS_EXP_DELETE")
			default:
				s.Unknown = append(s.Unknown, w.raw())
			}
		}
		if err := w.err(); err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}
