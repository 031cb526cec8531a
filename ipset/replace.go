package ipset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ReplaceSet makes set s hold exactly entries, atomically for packets:
// it creates a temporary set of the same type and options, fills it,
// swaps it with s (one kernel operation: rules referencing s see the old
// contents, then the new ones, never a mix) and destroys the temporary
// set, which then holds the old contents. If s does not exist, the filled
// temporary set is renamed to s.
//
// If anything fails before the swap, s is untouched and the temporary set
// is destroyed. s's existing type and family must equal s.Type and
// s.Family (otherwise the kernel refuses the swap with ErrTypeMismatch);
// the other options (hashsize, timeout, counters...) may change. Like
// `ipset create TMP ...; ipset restore; ipset swap TMP S; ipset destroy
// TMP`.
func (c *Conn) ReplaceSet(ctx context.Context, s Set, entries []Entry) (err error) {
	if _, err := s.validate(); err != nil {
		return err
	}
	tmp := s
	tmp.Name = tempName()
	b := Batch{}
	b.Create(tmp)
	b.Add(tmp.Name, entries...)
	// Validation of every entry happens here, before anything is sent.
	chunks, err := c.encodeBatch(ctx, &b)
	if err != nil {
		return err
	}
	exists := true
	if _, gerr := c.Get(ctx, s.Name); gerr != nil {
		if !errors.Is(gerr, ErrSetNotFound) {
			return gerr
		}
		exists = false
	}
	if err := c.commitChunks(ctx, &b, chunks); err != nil {
		if derr := c.Destroy(ctx, tmp.Name); derr != nil && !errors.Is(derr, ErrSetNotFound) {
			err = fmt.Errorf("%w (and removing temporary set %s failed: %v)", err, tmp.Name, derr)
		}
		return fmt.Errorf("replace set %s: filling temporary set %s: %w", s.Name, tmp.Name, err)
	}
	if !exists {
		if err := c.Rename(ctx, tmp.Name, s.Name); err != nil {
			_ = c.Destroy(ctx, tmp.Name)
			return fmt.Errorf("replace set %s: %w", s.Name, err)
		}
		return nil
	}
	if err := c.Swap(ctx, tmp.Name, s.Name); err != nil {
		_ = c.Destroy(ctx, tmp.Name)
		return fmt.Errorf("replace set %s: %w", s.Name, err)
	}
	if err := c.Destroy(ctx, tmp.Name); err != nil {
		return fmt.Errorf("replace set %s: contents replaced, but destroying the old contents in %s failed: %w", s.Name, tmp.Name, err)
	}
	return nil
}

// tempName is a set name no one else uses: 31 bytes at most.
func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "nfkit-tmp-" + hex.EncodeToString(b[:])
}

// Save writes sets and entries in the `ipset save` format, streaming from
// the kernel with bounded memory. name "" saves every set. Like
// `ipset save [NAME]`.
func (c *Conn) Save(ctx context.Context, w io.Writer, name string) error {
	sw := newSaveWriter(w)
	for r, err := range c.Dump(ctx, name) {
		if err != nil {
			return err
		}
		if r.Header {
			sw.set(r.Set)
		} else {
			sw.entry(r.Set, &r.Entry)
		}
		if sw.err != nil {
			return sw.err
		}
	}
	return sw.w.Flush()
}
