package conntrack

// flowAlloc hands out the optional parts of dumped flows (TCP state,
// counters, timestamps, sequence adjustments, synproxy state) from blocks
// of slabSize, so a dump costs a fraction of an allocation per part
// instead of one each: a flow created over netlink carries TCP and
// synproxy state, one with accounting on carries two counters and a
// timestamp more. The price: a Flow kept from a dump shares each block
// with up to slabSize-1 other flows of that dump and keeps it alive, at
// most a few KiB per kept flow. A nil *flowAlloc allocates each part on
// its own (single gets, events). Not safe for concurrent use; one per
// dump.
type flowAlloc struct {
	tcps   slab[TCPInfo]
	cnts   slab[Counters]
	tss    slab[Timestamp]
	seqs   slab[SeqAdj]
	synprx slab[Synproxy]
}

const slabSize = 64

type slab[T any] struct{ free []T }

func (s *slab[T]) get() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

func (a *flowAlloc) tcp() *TCPInfo {
	if a == nil {
		return new(TCPInfo)
	}
	return a.tcps.get()
}

func (a *flowAlloc) counters() *Counters {
	if a == nil {
		return new(Counters)
	}
	return a.cnts.get()
}

func (a *flowAlloc) timestamp() *Timestamp {
	if a == nil {
		return new(Timestamp)
	}
	return a.tss.get()
}

func (a *flowAlloc) seqAdj() *SeqAdj {
	if a == nil {
		return new(SeqAdj)
	}
	return a.seqs.get()
}

func (a *flowAlloc) synproxy() *Synproxy {
	if a == nil {
		return new(Synproxy)
	}
	return a.synprx.get()
}
