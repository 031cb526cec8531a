package nft

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// Listing the rules of a whole table (or family, or ruleset).
//
// The kernel's rule dump (nf_tables_dump_rules) keeps only a counter
// between reply datagrams: for every datagram (at most 32 KiB, ~150 rules)
// it walks the table's chains and rules again from the first one, skipping
// the rules already sent. A dump filtered by table alone (or not filtered)
// therefore costs O(rules²): measured 5.9 µs per rule at 22 000 rules and
// 47 µs at 220 000. A dump filtered by table AND chain looks the chain up
// in the table's hash and walks only that chain, so dumping chain by chain
// costs O(rules) plus one round trip per chain.
//
// Small listings are cheapest as one dump (no chain list, no round trip
// per chain), and the rule count is not known in advance, so AllRules
// starts with one dump, on a socket of its own, and yields from it. Only
// when it has yielded perChainAfter rules does it switch: it closes that
// socket (the kernel drops the rest of the dump; draining it would cost
// the quadratic walk), lists the chains (one cheap dump: chains are few
// and small), finds the chain it was in, and dumps the rest chain by
// chain, skipping the rules of that chain it already yielded. The
// per-chain dumps overlap on a few extra sockets (a netlink socket carries
// one dump at a time), which also spreads the decoding over the cores;
// rules are yielded in the order the kernel lists chains, the order of a
// single dump and of `nft list ruleset`.
//
// After the switch the listing is several dumps, not one snapshot: each
// one's NLM_F_DUMP_INTR only covers itself. The generation is therefore
// checked across them: the first dump's messages carry the generation's
// low 16 bits (nfgenmsg res_id), the generation is read (GetGen) when
// switching and again after the last chain, and if it moved (or a chain
// vanished, or a dump was interrupted) the listing reports
// ErrDumpInterrupted at its end; ListRules retries it.

// perChainAfter is how many rules AllRules takes from one table-wide dump
// before switching to per-chain dumps. Measured with
// BenchmarkListChainsCrossover (11 rules per chain, interleaved runs on a
// loaded 2-core machine, so ±20%): chain by chain from the start against
// one dump was 1.3x slower at 2 500 and 5 500 rules, even at 22 000, 1.6x
// faster at 55 000 and 2.5x at 110 000; switching after 10 000 rules was
// 1.3x slower than one dump at 22 000 and only 1.2x faster at 55 000 (the
// first 10 000 rules of one dump already cost more than per chain). A
// switch after a few thousand rules keeps small tables on the cheap path
// (no chain list, no round trip per chain) and bounds what the quadratic
// part can cost.
const perChainAfter = 4096

// dumpSockets is how many extra sockets the per-chain dumps run on at
// once, and how many idle ones a Conn keeps.
const dumpSockets = 3

// A socket dumps a few consecutive chains per job and hands the rules
// over in chunks: goroutine hand-overs, not round trips, dominate for
// small chains, so each one carries many rules. The look-ahead (and so
// the memory held) is bounded: at most lookahead jobs are queued ahead of
// the one being yielded, and each socket holds at most chunkDepth
// chunks plus the one it is filling.
const (
	jobChains  = 8  // chains per job
	chunkRules = 64 // rules per hand-over from a dumping socket to the caller
	chunkDepth = 2  // chunks a job may get ahead
	lookahead  = 4  // jobs queued ahead of the one being yielded
)

// listMode forces a rule listing strategy (tests and benchmarks).
type listMode uint8

const (
	listAuto    listMode = iota
	listOneDump          // one dump, never switch (nfkit before per-chain listing)
	listByChain          // switch after Conn.switchAt rules (0: list chains first)
)

// AllRules streams rules, like `nft -a list ruleset` / `list table` /
// `list chain` depending on the filter. Memory stays bounded whatever the
// size of the listing. A listing of more than one chain switches to
// dumping chain by chain once it is large (see the package doc,
// Concurrency), on extra sockets the Conn opens on first use.
func (c *Conn) AllRules(ctx context.Context, f RuleFilter) iter.Seq2[*Rule, error] {
	if err := f.validate(); err != nil {
		return func(yield func(*Rule, error) bool) { yield(nil, err) }
	}
	if f.Chain != "" || c.listMode == listOneDump {
		return c.dumpRules(ctx, f)
	}
	return func(yield func(*Rule, error) bool) { c.allRules(ctx, f, yield) }
}

// ListRules returns the rules the filter selects (see AllRules). A listing
// that raced with a commit is retried a few times before it fails with
// ErrDumpInterrupted.
func (c *Conn) ListRules(ctx context.Context, f RuleFilter) ([]*Rule, error) {
	return collect(func() iter.Seq2[*Rule, error] { return c.AllRules(ctx, f) })
}

// dumpRules is one rule dump with the filter's table and chain.
func (c *Conn) dumpRules(ctx context.Context, f RuleFilter) iter.Seq2[*Rule, error] {
	var e attr.Writer
	if f.Table != "" {
		e.String(attrRuleTable, f.Table)
	}
	if f.Chain != "" {
		e.String(attrRuleChain, f.Chain)
	}
	return func(yield func(*Rule, error) bool) {
		var rd ruleDecoder // one per listing: reused buffers and names
		dump(c, ctx, "list rules", msgGetRule, msgNewRule, f.Family, e.Buf, func(fam Family, a []byte) (*Rule, error) {
			r := &Rule{}
			return r, rd.decode(r, fam, a, f.SkipExprs)
		})(yield)
	}
}

// chainRef names a chain to dump.
type chainRef struct {
	family      Family
	table, name string
}

// chainRefs streams the chains the filter covers, in kernel order, on s.
func chainRefs(ctx context.Context, s *nlconn.Conn, f RuleFilter) iter.Seq2[chainRef, error] {
	var e attr.Writer
	if f.Table != "" {
		e.String(attrChainTable, f.Table)
	}
	return func(yield func(chainRef, error) bool) {
		var prevTable string
		for m, err := range s.Dump(ctx, request(msgGetChain, f.Family, e.Buf)) {
			if err != nil {
				yield(chainRef{}, kernelErr(err, "list chains", f.Family.String()))
				return
			}
			if _, got := nfnl.Split(m.Header.Type); got != msgNewChain {
				continue
			}
			h, a, err := nfnl.Unmarshal(m.Data)
			if err != nil {
				yield(chainRef{}, fmt.Errorf("nft: list chains: %w", err))
				return
			}
			ref := chainRef{family: Family(h.Family)}
			it := attr.NewIter(a)
			for it.Next() {
				switch it.Type() & attr.TypeMask {
				case attrChainTable:
					if d := trimNUL(it.Data()); string(d) != prevTable {
						prevTable = string(d)
					}
					ref.table = prevTable
				case attrChainName:
					ref.name = string(trimNUL(it.Data()))
				}
			}
			if err := it.Err(); err != nil {
				yield(chainRef{}, fmt.Errorf("nft: list chains: decode: %w", err))
				return
			}
			if f.Table != "" && ref.table != f.Table { // older kernels ignore the filter
				continue
			}
			if !yield(ref, nil) {
				return
			}
		}
	}
}

// ruleItem is one yielded value; fatal ends the listing after it.
type ruleItem struct {
	r     *Rule
	err   error
	fatal bool
}

// chainJob is the dump of a few consecutive chains: out carries their
// rules in chunks and is closed when they are done. err, set instead, is
// a failure of the chain list at this point.
type chainJob struct {
	refs []chainRef
	skip int // rules of refs[0] already yielded by the first dump
	out  chan []ruleItem
	err  error
}

// allRules yields from one dump and switches to per-chain dumps after
// perChainAfter rules (see the comment at the top of the file).
func (c *Conn) allRules(ctx context.Context, f RuleFilter, yield func(*Rule, error) bool) {
	switchAt := perChainAfter
	if c.listMode == listByChain {
		switchAt = c.switchAt
	}
	// wctx stops the dumps when the caller breaks or the listing ends
	// early: a cut-short dump's socket is closed rather than drained.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		at          chainRef // the chain the first dump stopped in
		skip        int      // rules of it already yielded
		resID       uint16   // generation (low 16 bits) of the first dump
		interrupted atomic.Bool
	)
	if switchAt > 0 {
		done, ok := c.firstDump(wctx, f, switchAt, yield, &at, &skip, &resID, &interrupted)
		if done || !ok {
			return
		}
	}
	gen, err := c.GetGen(ctx)
	if err != nil {
		yield(nil, err)
		return
	}
	if switchAt > 0 && uint16(gen.ID) != resID {
		interrupted.Store(true)
	}
	ls, err := c.dumper()
	if err != nil {
		yield(nil, err)
		return
	}
	next, stop := iter.Pull2(chainRefs(wctx, ls, f))
	var (
		wg      sync.WaitGroup
		listed  atomic.Bool // the chain dump ran to its end: ls can be reused
		nextRef = func() (chainRef, error, bool) {
			ref, err, ok := next()
			if !ok {
				listed.Store(true)
			}
			return ref, err, ok
		}
	)
	defer func() {
		cancel()
		wg.Wait()
		stop()
		c.release(ls, listed.Load())
	}()
	if c.hookChains != nil {
		c.hookChains()
	}
	if switchAt > 0 { // skip to the chain the first dump stopped in
		for {
			ref, err, ok := nextRef()
			if err != nil {
				yield(nil, err)
				return
			}
			if !ok { // it is gone: a change, and no place to resume from
				yield(nil, kernelErr(ErrDumpInterrupted, "list rules", f.Family.String()))
				return
			}
			if ref == at {
				break
			}
		}
	}

	nsocks := dumpSockets
	if c.sockets > 0 {
		nsocks = c.sockets
	}
	socks := make([]*nlconn.Conn, 0, nsocks)
	for range nsocks {
		s, err := c.dumper()
		if err != nil {
			for _, s := range socks {
				c.release(s, true)
			}
			yield(nil, err)
			return
		}
		socks = append(socks, s)
	}
	order := make(chan *chainJob, lookahead) // what the caller yields, in order
	jobs := make(chan *chainJob)             // what the sockets dump

	wg.Add(1)
	go func() { // dispatcher: the chain list, handed out in order
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		emit := func(j *chainJob) bool {
			select {
			case order <- j:
			case <-wctx.Done():
				return false
			}
			if j.err != nil {
				return false
			}
			select {
			case jobs <- j:
				return true
			case <-wctx.Done():
				return false
			}
		}
		var refs []chainRef
		first := true
		flush := func() bool {
			if len(refs) == 0 {
				return true
			}
			j := &chainJob{refs: refs, out: make(chan []ruleItem, chunkDepth)}
			if first && switchAt > 0 {
				j.skip = skip
			}
			first = false
			refs = make([]chainRef, 0, jobChains)
			return emit(j)
		}
		if switchAt > 0 {
			refs = append(refs, at)
		}
		for {
			ref, err, ok := nextRef()
			switch {
			case !ok:
				flush()
				return
			case err != nil:
				if flush() {
					emit(&chainJob{err: err})
				}
				return
			}
			if refs = append(refs, ref); len(refs) == jobChains && !flush() {
				return
			}
		}
	}()
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			healthy := true
			var rd ruleDecoder
			for j := range jobs {
				if !dumpJob(wctx, s, &rd, j, f.SkipExprs, &interrupted) {
					healthy = false
				}
			}
			c.release(s, healthy && wctx.Err() == nil)
		}()
	}

	for j := range order {
		if j.err != nil {
			yield(nil, j.err)
			return
		}
		for {
			var items []ruleItem
			var ok bool
			select {
			case items, ok = <-j.out:
			case <-wctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if !ok {
				break
			}
			for _, it := range items {
				if !yield(it.r, it.err) || it.fatal {
					return
				}
			}
		}
	}
	if err := ctx.Err(); err != nil { // the dispatcher stopped early
		yield(nil, err)
		return
	}
	now, err := c.GetGen(ctx)
	switch {
	case err != nil:
		yield(nil, err)
	case interrupted.Load() || now.ID != gen.ID:
		yield(nil, kernelErr(ErrDumpInterrupted, "list rules", f.Family.String()))
	}
}

// firstDump yields from one table-wide dump, on a socket of its own, until
// it has yielded switchAt rules. It reports done when the dump ended first
// (the listing is complete) and !ok when the caller stopped or the dump
// failed; otherwise at, skip and resID say where it stopped (the chain,
// how many of its rules were yielded) and at which generation.
func (c *Conn) firstDump(ctx context.Context, f RuleFilter, switchAt int, yield func(*Rule, error) bool,
	at *chainRef, skip *int, resID *uint16, interrupted *atomic.Bool) (done, ok bool) {
	s, err := c.dumper()
	if err != nil {
		yield(nil, err)
		return false, false
	}
	// Cancelling dctx before leaving the loop makes the dump stop reading
	// at once; the socket, with its unfinished dump, is then closed.
	dctx, cancel := context.WithCancel(ctx)
	clean := false
	defer func() {
		cancel()
		c.release(s, clean)
	}()
	var e attr.Writer
	if f.Table != "" {
		e.String(attrRuleTable, f.Table)
	}
	var rd ruleDecoder
	n, first := 0, true
	for m, err := range s.Dump(dctx, request(msgGetRule, f.Family, e.Buf)) {
		if err != nil {
			var kerr *nlconn.Error
			clean = errors.As(err, &kerr) || errors.Is(err, ErrDumpInterrupted)
			yield(nil, kernelErr(err, "list rules", f.Family.String()))
			return false, false
		}
		if _, got := nfnl.Split(m.Header.Type); got != msgNewRule {
			continue
		}
		h, a, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			if !yield(nil, fmt.Errorf("nft: list rules: %w", err)) {
				cancel()
				return false, false
			}
			continue
		}
		if first {
			*resID, first = h.ResourceID, false
		} else if h.ResourceID != *resID {
			interrupted.Store(true)
		}
		r := &Rule{}
		if err = rd.decode(r, Family(h.Family), a, f.SkipExprs); err != nil {
			err = fmt.Errorf("nft: list rules: decode: %w", err)
		}
		if ref := (chainRef{Family(h.Family), r.Table, r.Chain}); ref != *at {
			*at, *skip = ref, 0
		}
		*skip++
		n++
		if !yield(r, err) {
			cancel()
			return false, false
		}
		if n == switchAt {
			cancel()
			return false, true
		}
	}
	clean = true
	return true, true
}

// dumpJob dumps the rules of j's chains on s into j.out, in chunks, and
// closes it. A chain that vanished since the chain list, or a dump the
// kernel marked interrupted, sets interrupted. It reports whether s is
// still fit for another dump.
func dumpJob(ctx context.Context, s *nlconn.Conn, rd *ruleDecoder, j *chainJob, skipExprs bool, interrupted *atomic.Bool) bool {
	defer close(j.out)
	chunk := make([]ruleItem, 0, chunkRules)
	send := func() bool {
		select {
		case j.out <- chunk:
			chunk = make([]ruleItem, 0, chunkRules)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i, ref := range j.refs {
		skip := 0
		if i == 0 {
			skip = j.skip
		}
		var e attr.Writer
		e.String(attrRuleTable, ref.table)
		e.String(attrRuleChain, ref.name)
		for m, err := range s.Dump(ctx, request(msgGetRule, ref.family, e.Buf)) {
			if err != nil {
				var kerr *nlconn.Error
				switch {
				case errors.Is(err, ErrDumpInterrupted):
					interrupted.Store(true)
				case errors.As(err, &kerr) && kerr.Errno == unix.ENOENT:
					// The chain or table is gone. Linux 6.18 answers an
					// empty dump for a missing chain instead (the
					// generation check catches that); either way it is a
					// change since the chain list, not a failure.
					interrupted.Store(true)
				case errors.As(err, &kerr):
					chunk = append(chunk, ruleItem{err: kernelErr(err, "list rules", "chain "+ref.String()), fatal: true})
					return send()
				default: // cancelled or a socket failure: the dump may be unfinished
					chunk = append(chunk, ruleItem{err: err, fatal: true})
					send()
					return false
				}
				break
			}
			if _, got := nfnl.Split(m.Header.Type); got != msgNewRule {
				continue
			}
			if skip > 0 { // yielded by the first dump
				skip--
				continue
			}
			h, a, err := nfnl.Unmarshal(m.Data)
			if err != nil {
				chunk = append(chunk, ruleItem{err: fmt.Errorf("nft: list rules: %w", err)})
			} else {
				r := &Rule{}
				if err := rd.decode(r, Family(h.Family), a, skipExprs); err != nil {
					chunk = append(chunk, ruleItem{r: r, err: fmt.Errorf("nft: list rules: decode: %w", err)})
				} else {
					chunk = append(chunk, ruleItem{r: r})
				}
			}
			if len(chunk) == chunkRules && !send() {
				return false
			}
		}
	}
	if len(chunk) > 0 {
		return send()
	}
	return true
}

func (r chainRef) String() string { return r.family.String() + " " + r.table + " " + r.name }
