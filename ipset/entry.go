package ipset

import (
	"context"
	"errors"
	"fmt"

	"github.com/nfkit/nfkit/internal/nlconn"
)

// Entry operations read the set's header first (one round trip, as the
// ipset CLI does) so that entries are checked against the set's type,
// family and options before anything is sent. Many entries go in few
// messages; see Batch for the failure report (*BatchError).

// Add adds entries to a set; an entry already present is ErrEntryExists
// (fs.ErrExist). Like `ipset add SET ENTRY` (for many entries, like
// `ipset restore` of add lines).
func (c *Conn) Add(ctx context.Context, set string, entries ...Entry) error {
	b := Batch{ops: []batchOp{{code: opAddEntries, name: set, entries: entries}}}
	return c.Commit(ctx, &b)
}

// AddExist adds entries, updating those already present (timeout,
// counters, comment, skbinfo). Like `ipset -exist add SET ENTRY`.
func (c *Conn) AddExist(ctx context.Context, set string, entries ...Entry) error {
	b := Batch{ops: []batchOp{{code: opAddEntries, exist: true, name: set, entries: entries}}}
	return c.Commit(ctx, &b)
}

// Delete deletes entries; a missing entry is ErrEntryMissing
// (fs.ErrNotExist). Like `ipset del SET ENTRY`.
func (c *Conn) Delete(ctx context.Context, set string, entries ...Entry) error {
	b := Batch{ops: []batchOp{{code: opDelEntries, name: set, entries: entries}}}
	return c.Commit(ctx, &b)
}

// DeleteExist deletes entries, ignoring missing ones. Like
// `ipset -exist del SET ENTRY`.
func (c *Conn) DeleteExist(ctx context.Context, set string, entries ...Entry) error {
	b := Batch{ops: []batchOp{{code: opDelEntries, exist: true, name: set, entries: entries}}}
	return c.Commit(ctx, &b)
}

// Test reports whether an entry is in a set (for a net type: whether the
// address or network is matched, honouring nomatch). Like
// `ipset test SET ENTRY`.
func (c *Conn) Test(ctx context.Context, set string, e Entry) (bool, error) {
	if err := validateName("set", set); err != nil {
		return false, err
	}
	s, err := c.Get(ctx, set)
	if err != nil {
		return false, err
	}
	ti, ok := lookupType(s.Type)
	if !ok {
		return false, fmt.Errorf("%w: set %s has type %q, unknown to nfkit", ErrInvalid, s.Name, s.Type)
	}
	t := e
	// Extensions are not part of the match.
	t.Timeout, t.TimeoutSet, t.Packets, t.Bytes, t.Comment = 0, false, 0, 0, ""
	t.SkbMark, t.SkbMarkMask, t.SkbPrio, t.SkbQueue = 0, 0, 0, 0
	if err := validateEntry(ti, s.Family, &s, &t); err != nil {
		return false, err
	}
	w := c.newAttrs(128)
	w.String(attrSetName, set)
	d := w.begin(attrData)
	t.appendEntryData(w, 0, ti.defaultProto())
	w.End(d)
	_, err = c.execute(ctx, cmdTest, 0, w, "test entry in", set, opOther, ti.kind)
	var ke *nlconn.Error
	if errors.As(err, &ke) && ke.Errno == errExist {
		return false, nil // IPSET_ERR_EXIST is the kernel's "not in set"
	}
	if err != nil {
		return false, err
	}
	return true, nil
}
