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

// Listing the rules of a whole table (or family, or ruleset) chain by chain.
//
// The kernel's rule dump (nf_tables_dump_rules) keeps only a counter
// between reply datagrams: for every datagram (at most 32 KiB, ~150 rules)
// it walks the table's chains and rules again from the first one, skipping
// the rules already sent. A dump filtered by table alone (or not filtered)
// therefore costs O(rules²): measured 5.9 µs per rule at 22 000 rules and
// 47 µs at 220 000. A dump filtered by table AND chain looks the chain up
// in the table's hash and walks only that chain, so listing the chains
// first (one cheap dump: chains are few and small) and then dumping each
// chain costs O(rules) plus one round trip per chain. The round trips
// overlap on a few extra sockets (a netlink socket carries one dump at a
// time), which also spreads the decoding over the cores; rules are still
// yielded in the order the kernel lists chains, the order of a single
// dump and of `nft list ruleset`.
//
// The per-chain dumps are separate dumps, not one snapshot: each one's
// NLM_F_DUMP_INTR only covers itself. The ruleset generation is read
// before the chain list and after the last chain; if it moved (or a chain
// vanished, or a chain's dump was interrupted) the listing reports
// ErrDumpInterrupted at its end, and ListRules retries it.

// perChainMin is the chain count from which AllRules lists chain by chain.
// Below it one dump is cheaper: the quadratic walk is short, and per-chain
// listing adds the chain list, two generation reads and a round trip per
// chain. Measured with BenchmarkListChainsCrossover.
const perChainMin = 16

// dumpSockets is how many extra sockets a per-chain listing dumps on at
// once, and how many idle ones a Conn keeps.
const dumpSockets = 3

const (
	chunkRules = 64 // rules per hand-over from a dumping socket to the caller
	chunkDepth = 2  // chunks a socket may get ahead per chain
	lookahead  = 8  // chains queued ahead of the one being yielded
)

// listMode forces a rule listing strategy (tests and benchmarks).
type listMode uint8

const (
	listAuto listMode = iota
	listOneDump
	listByChain
)

// AllRules streams rules, like `nft -a list ruleset` / `list table` /
// `list chain` depending on the filter. Memory stays bounded whatever the
// size of the listing. A listing of more than one chain dumps the rules
// chain by chain when the table has many chains (see the package doc,
// Concurrency), on extra sockets the Conn opens on first use.
func (c *Conn) AllRules(ctx context.Context, f RuleFilter) iter.Seq2[*Rule, error] {
	if err := f.validate(); err != nil {
		return func(yield func(*Rule, error) bool) { yield(nil, err) }
	}
	if f.Chain != "" || c.listMode == listOneDump {
		return c.dumpRules(ctx, f)
	}
	return func(yield func(*Rule, error) bool) { c.rulesByChain(ctx, f, yield) }
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

// chainJob is one chain's dump: out carries its rules in chunks and is
// closed when the chain is done. err, set instead, is a failure of the
// chain list at this point.
type chainJob struct {
	ref chainRef
	out chan []ruleItem
	err error
}

// rulesByChain lists the chains first and decides: below perChainMin
// chains one dump; otherwise one dump per chain, on dumpSockets sockets,
// yielded in chain order.
func (c *Conn) rulesByChain(ctx context.Context, f RuleFilter, yield func(*Rule, error) bool) {
	gen, err := c.GetGen(ctx)
	if err != nil {
		yield(nil, err)
		return
	}
	// wctx stops the dumps when the caller breaks: a cut-short dump's
	// socket is closed rather than drained (draining a long chain would
	// cost the rest of its dump).
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
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

	need := perChainMin
	if c.listMode == listByChain {
		need = 1
	}
	var head []chainRef
	for len(head) < need {
		ref, err, ok := nextRef()
		if !ok {
			break
		}
		if err != nil {
			yield(nil, err)
			return
		}
		head = append(head, ref)
	}
	if len(head) < need { // the whole chain list was short
		c.dumpRules(ctx, f)(yield)
		return
	}
	if c.hookChains != nil {
		c.hookChains()
	}

	socks := make([]*nlconn.Conn, 0, dumpSockets)
	for range dumpSockets {
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
	var interrupted atomic.Bool

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
		for _, ref := range head {
			if !emit(&chainJob{ref: ref, out: make(chan []ruleItem, chunkDepth)}) {
				return
			}
		}
		for {
			ref, err, ok := nextRef()
			switch {
			case !ok:
				return
			case err != nil:
				emit(&chainJob{err: err})
				return
			case !emit(&chainJob{ref: ref, out: make(chan []ruleItem, chunkDepth)}):
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
				if !dumpChain(wctx, s, &rd, j, f.SkipExprs, &interrupted) {
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

// dumpChain dumps one chain's rules on s into j.out, in chunks, and closes
// it. A chain that vanished since the chain list, or a dump the kernel
// marked interrupted, sets interrupted. It reports whether s is still fit
// for another dump.
func dumpChain(ctx context.Context, s *nlconn.Conn, rd *ruleDecoder, j *chainJob, skipExprs bool, interrupted *atomic.Bool) bool {
	defer close(j.out)
	var e attr.Writer
	e.String(attrRuleTable, j.ref.table)
	e.String(attrRuleChain, j.ref.name)
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
	for m, err := range s.Dump(ctx, request(msgGetRule, j.ref.family, e.Buf)) {
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
				chunk = append(chunk, ruleItem{err: kernelErr(err, "list rules", "chain "+j.ref.String()), fatal: true})
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
	if len(chunk) > 0 {
		return send()
	}
	return true
}

func (r chainRef) String() string { return r.family.String() + " " + r.table + " " + r.name }
