package nft

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
	"github.com/nfkit/nfkit/internal/nfnl"
	"github.com/nfkit/nfkit/internal/nlconn"
)

// ErrDumpInterrupted reports that the ruleset changed while it was being
// listed (NLM_F_DUMP_INTR), so the listing may be inconsistent. List...
// functions retry a few times before returning it; All... iterators report
// it at the end, since what they yielded cannot be taken back.
var ErrDumpInterrupted = nlconn.ErrDumpInterrupted

const dumpRetries = 3

func request(cmd uint8, family Family, attrs []byte) netlink.Message {
	return nfnl.NewMessage(subsys, cmd, 0, nfnl.Header{Family: uint8(family), Version: unix.NFNETLINK_V0}, attrs)
}

// dump streams the objects of a GET dump. decode gets the family and the
// attributes of each reply message of type want.
func dump[T any](c *Conn, ctx context.Context, op string, cmd, want uint8, family Family, attrs []byte,
	decode func(Family, []byte) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for m, err := range c.nl.Dump(ctx, request(cmd, family, attrs)) {
			if err != nil {
				yield(zero, kernelErr(err, op, family.String()))
				return
			}
			if _, got := nfnl.Split(m.Header.Type); got != want {
				continue
			}
			h, a, err := nfnl.Unmarshal(m.Data)
			if err != nil {
				if !yield(zero, fmt.Errorf("nft: %s: %w", op, err)) {
					return
				}
				continue
			}
			v, err := decode(Family(h.Family), a)
			if err != nil {
				err = fmt.Errorf("nft: %s: decode: %w", op, err)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// collect gathers an iterator into a slice, retrying the whole dump when it
// was interrupted by a concurrent change.
func collect[T any](seq func() iter.Seq2[T, error]) ([]T, error) {
	var err error
	for range dumpRetries {
		var out []T
		err = nil
		for v, e := range seq() {
			if e != nil {
				err = e
				break
			}
			out = append(out, v)
		}
		if !errors.Is(err, ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

func decodeTable(f Family, a []byte) (*Table, error) {
	t := &Table{}
	return t, t.unmarshal(f, a)
}

func decodeChain(f Family, a []byte) (*Chain, error) {
	c := &Chain{}
	return c, c.unmarshal(f, a)
}

// AllTables streams the tables of family (FamilyUnspec: all), like `nft
// list tables`.
func (c *Conn) AllTables(ctx context.Context, family Family) iter.Seq2[*Table, error] {
	return dump(c, ctx, "list tables", msgGetTable, msgNewTable, family, nil, decodeTable)
}

// ListTables returns the tables of family (FamilyUnspec: all), like `nft
// list tables`.
func (c *Conn) ListTables(ctx context.Context, family Family) ([]*Table, error) {
	return collect(func() iter.Seq2[*Table, error] { return c.AllTables(ctx, family) })
}

// GetTable returns one table (like `nft list table FAMILY NAME`, without
// the contents). A missing table is an error matching fs.ErrNotExist.
func (c *Conn) GetTable(ctx context.Context, family Family, name string) (*Table, error) {
	t := &Table{Family: family, Name: name}
	if err := t.validate(); err != nil {
		return nil, err
	}
	var e attr.Writer
	e.String(attrTableName, name)
	return get(c, ctx, "get table", t.String(), msgGetTable, msgNewTable, family, e.Buf, decodeTable)
}

func get[T any](c *Conn, ctx context.Context, op, object string, cmd, want uint8, family Family, attrs []byte,
	decode func(Family, []byte) (T, error)) (T, error) {
	var zero T
	msgs, err := c.nl.Execute(ctx, request(cmd, family, attrs))
	if err != nil {
		return zero, kernelErr(err, op, object)
	}
	for _, m := range msgs {
		if _, got := nfnl.Split(m.Header.Type); got != want {
			continue
		}
		h, a, err := nfnl.Unmarshal(m.Data)
		if err != nil {
			return zero, err
		}
		return decode(Family(h.Family), a)
	}
	return zero, fmt.Errorf("nft: %s %s: no reply", op, object)
}

// AllChains streams the chains of family (FamilyUnspec: all), of one table
// when table is not empty, like `nft list chains`.
func (c *Conn) AllChains(ctx context.Context, family Family, table string) iter.Seq2[*Chain, error] {
	var e attr.Writer
	if table != "" {
		e.String(attrChainTable, table)
	}
	all := dump(c, ctx, "list chains", msgGetChain, msgNewChain, family, e.Buf, decodeChain)
	if table == "" {
		return all
	}
	return func(yield func(*Chain, error) bool) {
		for ch, err := range all {
			if err == nil && ch.Table != table { // older kernels ignore the filter
				continue
			}
			if !yield(ch, err) {
				return
			}
		}
	}
}

// ListChains returns the chains of family (FamilyUnspec: all), of one
// table when table is not empty, like `nft list chains`.
func (c *Conn) ListChains(ctx context.Context, family Family, table string) ([]*Chain, error) {
	return collect(func() iter.Seq2[*Chain, error] { return c.AllChains(ctx, family, table) })
}

// GetChain returns one chain (like `nft list chain FAMILY TABLE NAME`
// without the rules).
func (c *Conn) GetChain(ctx context.Context, family Family, table, name string) (*Chain, error) {
	ch := &Chain{Family: family, Table: table, Name: name}
	if !family.valid() {
		return nil, fmt.Errorf("%w: %v: family %v", ErrInvalid, ch, family)
	}
	if err := validName("table name", table); err != nil {
		return nil, err
	}
	if err := validName("chain name", name); err != nil {
		return nil, err
	}
	var e attr.Writer
	e.String(attrChainTable, table)
	e.String(attrChainName, name)
	return get(c, ctx, "get chain", ch.String(), msgGetChain, msgNewChain, family, e.Buf, decodeChain)
}

// RuleFilter selects rules to list. Zero fields match everything.
type RuleFilter struct {
	Family Family
	Table  string // requires Family when set
	Chain  string // requires Table when set
	// SkipExprs leaves Rule.Exprs nil (the raw bytes stay available through
	// Rule.RawExprs): a cheap listing of handles and comments.
	SkipExprs bool
}

func (f RuleFilter) validate() error {
	if f.Family != FamilyUnspec && !f.Family.valid() {
		return fmt.Errorf("%w: rule filter: family %v", ErrInvalid, f.Family)
	}
	if f.Table != "" {
		if f.Family == FamilyUnspec {
			return fmt.Errorf("%w: rule filter: table %q without a family", ErrInvalid, f.Table)
		}
		if err := validName("table name", f.Table); err != nil {
			return err
		}
	}
	if f.Chain != "" {
		if f.Table == "" {
			return fmt.Errorf("%w: rule filter: chain %q without a table", ErrInvalid, f.Chain)
		}
		if err := validName("chain name", f.Chain); err != nil {
			return err
		}
	}
	return nil
}

// Generation is the ruleset generation: a counter the kernel bumps on every
// committed transaction, and the process that made the last one.
type Generation struct {
	ID       uint32
	ProcPID  uint32
	ProcName string
}

// GetGen returns the current ruleset generation (what `nft list ruleset`
// reads first and `nft monitor` shows as "new generation").
func (c *Conn) GetGen(ctx context.Context) (Generation, error) {
	return get(c, ctx, "get generation", "ruleset", msgGetGen, msgNewGen, FamilyUnspec, nil, decodeGen)
}

func decodeGen(_ Family, a []byte) (Generation, error) {
	var g Generation
	err := attr.Walk(a, func(typ uint16, d []byte) error {
		var err error
		switch typ & attr.TypeMask {
		case attrGenID:
			g.ID, err = getU32(d)
		case attrGenProcPID:
			g.ProcPID, err = getU32(d)
		case attrGenProcName:
			g.ProcName = getStr(d)
		}
		return err
	})
	return g, err
}
