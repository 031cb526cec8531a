package iptables

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
	"github.com/nfkit/nfkit/nft"
)

// SaveOptions change what Save prints.
type SaveOptions struct {
	// Counters prints rule counters as "[PACKETS:BYTES] -A ...", like
	// iptables-save -c. Chain lines always carry the policy counters.
	Counters bool
}

// saveTableOrder is the order iptables-nft-save 1.8.9 prints tables in
// (its built-in table array), whatever order they were created in.
var saveTableOrder = []string{"mangle", "security", "raw", "filter", "nat"}

// Save writes the iptables rules of family f in iptables-save format, like
// `iptables-nft-save [-c] [-t TABLE]`: every existing iptables table when
// table is "", else that table (printed with its built-in chains even if
// it does not exist, as iptables-nft-save does).
//
// The output equals iptables-nft-save's except for the two comment lines
// around each table, which name nfkit and carry no date. A table holding a
// rule iptables-nft did not write is not printed; in its place comes the
// line iptables-nft-save prints, "# Table `NAME' is incompatible, use 'nft'
// tool.". Base chains iptables does not know are left out and announced
// the same way iptables-nft-save does.
func (c *Conn) Save(ctx context.Context, w io.Writer, f Family, table string, opt *SaveOptions) error {
	if opt == nil {
		opt = &SaveOptions{}
	}
	tables := saveTableOrder
	if table != "" {
		if _, ok := builtins[table]; !ok {
			return invalid("table %q", table)
		}
		tables = []string{table}
	}
	if !f.valid() {
		return invalid("family %d", f)
	}
	// Each chain is its own dump, so the listing is many snapshots: like
	// iptables-nft-save, list everything between two reads of the ruleset
	// generation and start over when a commit came in between. Nothing is
	// written before a consistent listing is complete.
	var listed []savedTable
	for attempt := 0; ; attempt++ {
		gen, err := c.n.GetGen(ctx)
		if err != nil {
			return err
		}
		c.keepTextBufs(listed) // of a listing a commit interrupted
		listed = listed[:0]
		for _, t := range tables {
			st, err := c.tableText(ctx, f, t, opt.Counters)
			if err != nil {
				return err
			}
			listed = append(listed, st)
		}
		if testAfterListing != nil {
			testAfterListing(attempt)
		}
		now, err := c.n.GetGen(ctx)
		if err != nil {
			return err
		}
		if now.ID == gen.ID {
			break
		}
		if attempt == saveAttempts-1 {
			return fmt.Errorf("iptables: save: the ruleset changed during %d listings in a row: %w", saveAttempts, nft.ErrDumpInterrupted)
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, st := range listed {
		writeTable(bw, st, table != "")
	}
	err := bw.Flush()
	c.keepTextBufs(listed)
	return err
}

// Save prints into one growing buffer per dump worker; a Conn keeps them
// for its next Save (up to maxSpareText bytes), since programs that save
// once usually save again, and for a big table these buffers are most of
// what Save allocates: building them anew each time would leave the
// garbage collector tens of megabytes to trace and reclaim per Save.
const maxSpareText = 64 << 20

// textBuf returns an empty buffer for a dump worker's text.
func (c *Conn) textBuf() []byte {
	c.spareMu.Lock()
	defer c.spareMu.Unlock()
	if n := len(c.spare); n > 0 {
		b := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return b[:0]
	}
	return nil
}

// keepTextBufs takes back the text buffers of listed tables that are
// written out (or dropped).
func (c *Conn) keepTextBufs(listed []savedTable) {
	c.spareMu.Lock()
	defer c.spareMu.Unlock()
	held := 0
	for _, b := range c.spare {
		held += cap(b)
	}
	for _, st := range listed {
		if st.text == nil {
			continue
		}
		for _, b := range st.text.bufs {
			if b != nil && held+cap(b) <= maxSpareText {
				c.spare = append(c.spare, b)
				held += cap(b)
			}
		}
	}
}

// saveAttempts is how many times Save lists the ruleset before it gives up
// on getting a listing no commit interrupted.
const saveAttempts = 5

// testAfterListing, when set (tests only), runs between Save's listing and
// its second generation read.
var testAfterListing func(attempt int)

// savedTable is one table listed for Save.
type savedTable struct {
	name    string
	tc      *tableChains
	text    *tableTextBufs
	foreign bool
}

// writeTable prints a listed table; one that does not exist only when it
// was asked for by name (always).
func writeTable(w *bufio.Writer, st savedTable, always bool) {
	table, tc, text, foreign := st.name, st.tc, st.text, st.foreign
	if !tc.exists && !always {
		return
	}
	if foreign {
		w.WriteString("# Table `" + table + "' is incompatible, use 'nft' tool.\n")
		return
	}
	if tc.tainted {
		w.WriteString("# Table `" + table + "' contains incompatible base-chains, use 'nft' tool to list them.\n")
	}
	w.WriteString("# Generated by nfkit\n*" + table + "\n")
	var line textBuf
	for _, ch := range tc.chains {
		line.Reset()
		line.WriteByte(':')
		line.WriteString(ch.Name)
		line.WriteByte(' ')
		line.WriteString(ch.Policy)
		line.WriteString(" [")
		line.uint(ch.Counters.Packets)
		line.WriteByte(':')
		line.uint(ch.Counters.Bytes)
		line.WriteString("]\n")
		w.Write(line.b)
	}
	for _, ch := range tc.chains {
		if sp, ok := text.spans[ch.Name]; ok {
			w.Write(text.bufs[sp.buf][sp.lo:sp.hi])
		}
	}
	w.WriteString("COMMIT\n# Completed\n")
}

// tableText lists the chains of table and dumps and prints the rules of
// every chain as "-A" lines (text by chain name). A table holding a rule
// iptables-nft did not write comes back foreign: it is not printed at all, like
// iptables-nft-save does, which is why the whole table's text is built
// before any of it is written.
//
// One dump per chain, like iptables-nft-save: a dump of the whole table
// restarts its walk from the table's first rule on every reply buffer in
// the kernel, which is quadratic (measured: 13.7 s for 64 000 rules vs
// 33 µs per chain). The round trips overlap: a netlink socket carries one
// dump at a time, so dumpSockets workers, each on its own socket, take
// chain names as the chain dump delivers them (before the chain list is
// complete) and each decodes and prints the chains it dumped.
func (c *Conn) tableText(ctx context.Context, f Family, table string, counters bool) (savedTable, error) {
	conns, err := c.pool()
	if err != nil {
		return savedTable{}, err
	}
	// The last socket lists the chains while the others dump their rules.
	chainSock, conns := conns[len(conns)-1], conns[:len(conns)-1]
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		text    = &tableTextBufs{bufs: make([][]byte, len(conns))}
		printed = make([][]namedSpan, len(conns)) // per worker: no lock
		foreign atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
		names   = make(chan string, 4096)
		sets    = c.newSetCache() // shared by the workers
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		cancel()
	}
	for wi, n := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Rules are only printed: decoded into a pool. Every chain
			// this worker prints goes into one buffer; the table is
			// written from the spans once it is complete.
			w := &saveWorker{d: ruleDec{pool: &decPool{}}, s: n, sets: sets, f: f, table: table, counters: counters}
			w.sb.b = c.textBuf()
			defer func() { text.bufs[wi] = w.sb.b }()
			for name := range names {
				if ctx.Err() != nil {
					continue // drain
				}
				lo := w.sb.Len()
				err := w.chain(ctx, name)
				switch {
				case errors.Is(err, ErrForeign):
					foreign.Store(true)
					cancel()
				case err != nil:
					fail(err)
				case w.sb.Len() > lo:
					printed[wi] = append(printed[wi], namedSpan{name, textSpan{buf: wi, lo: lo, hi: w.sb.Len()}})
				}
			}
		}()
	}
	if !f.valid() {
		return savedTable{}, invalid("family %d", f)
	}
	tc, err := c.tableChainsOf(ctx, f, table, saveChains(ctx, chainSock, f, table), false, func(name string) bool {
		select {
		case names <- name:
			return true
		case <-ctx.Done():
			return false
		}
	})
	close(names)
	wg.Wait()
	switch {
	case foreign.Load(): // before the errors: the other workers then fail with context.Canceled
		return savedTable{name: table, tc: &tableChains{exists: true}, foreign: true}, nil
	case first != nil:
		return savedTable{}, first
	case err != nil:
		return savedTable{}, err
	}
	n := 0
	for _, p := range printed {
		n += len(p)
	}
	text.spans = make(map[string]textSpan, n)
	for _, p := range printed {
		for _, s := range p {
			text.spans[s.name] = s.span
		}
	}
	return savedTable{name: table, tc: tc, text: text}, nil
}

// saveLine prints r as Save does: an "-A" line of chain, with the
// counters first when asked for.
func saveLine(b *textBuf, r *Rule, chain string, f Family, counters bool) {
	if counters {
		b.WriteByte('[')
		b.uint(r.Counters.Packets)
		b.WriteByte(':')
		b.uint(r.Counters.Bytes)
		b.WriteString("] ")
	}
	b.WriteString("-A ")
	chainText(b, chain)
	r.appendSpec(b, f)
	b.WriteByte('\n')
}

// tableTextBufs is the printed rules of a table: one buffer per dump
// worker, and where in which buffer each chain's lines are.
type tableTextBufs struct {
	bufs  [][]byte
	spans map[string]textSpan
}

type textSpan struct{ buf, lo, hi int }

type namedSpan struct {
	name string
	span textSpan
}

// saveWorker dumps chains on its socket n and prints their rules into
// sb (one per tableText worker; it holds what is reused from chain to
// chain, so that a chain costs no closures or buffers of its own).
type saveWorker struct {
	d        ruleDec
	sb       textBuf
	s        *nlconn.Conn
	req      []byte // the GETRULE request's nfgenmsg and attributes
	attrs    attr.Writer
	sets     *setCache
	f        Family
	table    string
	counters bool
}

// chain lists one chain's rules and prints them. A missing chain yields
// nothing; a rule iptables-nft did not write stops it with an error
// wrapping ErrForeign.
//
// It reads the dump straight off the socket (nlconn.DumpBorrowed: the
// messages alias the receive buffer) and decodes each rule's expressions
// in place, without the nft.Rule, the copies of its expressions and the
// iterator layers nft.AllRules builds: Save prints a rule before it reads
// the next, so nothing needs to outlive its datagram. Per rule this saves
// a few allocations and a copy of all its bytes, which on big tables is
// most of what Save costs besides the kernel's own work.
func (w *saveWorker) chain(ctx context.Context, chain string) error {
	w.attrs.Buf = w.attrs.Buf[:0]
	w.attrs.String(unix.NFTA_RULE_TABLE, w.table)
	w.attrs.String(unix.NFTA_RULE_CHAIN, chain)
	var req netlink.Message
	req, w.req = nftDumpRequest(w.req, unix.NFT_MSG_GETRULE, w.f, w.attrs.Buf)
	for m, err := range w.s.DumpBorrowed(ctx, req) {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // the chain went away since the chain list
				return nil
			}
			return fmt.Errorf("iptables: list rules of %s %s chain %s: %w", w.f, w.table, chain, err)
		}
		if _, cmd := nfnl.Split(m.Header.Type); cmd != unix.NFT_MSG_NEWRULE {
			continue
		}
		_, a, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return fmt.Errorf("iptables: list rules of %s %s chain %s: %w", w.f, w.table, chain, err)
		}
		handle, exprs, err := listedRuleAttrs(a)
		if err != nil {
			return fmt.Errorf("iptables: list rules of %s %s chain %s: %w", w.f, w.table, chain, err)
		}
		r, err := w.d.decodeRaw(w.f, w.table, chain, handle, exprs)
		if err != nil {
			return err
		}
		if hasSetRefs(r) {
			if err := w.sets.nameRule(ctx, r); err != nil {
				return err
			}
		}
		saveLine(&w.sb, r, chain, w.f, w.counters)
	}
	return nil
}

// listedRuleAttrs picks a listed rule's handle and expressions out of its
// attributes.
func listedRuleAttrs(b []byte) (handle uint64, exprs []byte, err error) {
	it := attr.NewIter(b)
	for it.Next() {
		switch it.Type() & attr.TypeMask {
		case unix.NFTA_RULE_HANDLE:
			d := it.Data()
			if len(d) != 8 {
				return 0, nil, fmt.Errorf("rule handle of %d bytes", len(d))
			}
			handle = binary.BigEndian.Uint64(d)
		case unix.NFTA_RULE_EXPRESSIONS:
			exprs = it.Data()
		}
	}
	return handle, exprs, it.Err()
}
