package ipset

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Exist is ipset's -exist: creating an identical existing set, adding
	// a present entry and deleting a missing one are not errors.
	Exist bool
	// ContinueOnError keeps going after a refused line (ipset restore
	// stops at the first one).
	ContinueOnError bool
}

// Restore reads a file in the `ipset save` / `ipset restore` format
// (create, add, del, destroy, flush, rename, swap lines) and applies it as
// one pipelined, NON-atomic batch. The whole input is parsed and checked
// before anything is sent (an error then names the line). A refusal by the
// kernel is a *RestoreError naming the input line. Like
// `ipset restore [-exist] < FILE`.
func (c *Conn) Restore(ctx context.Context, r io.Reader, opts RestoreOptions) error {
	cmds, err := parseLines(r, func(name string) (*Set, error) {
		s, err := c.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		return &s, nil
	})
	if err != nil {
		return fmt.Errorf("ipset restore: %w", err)
	}
	b := Batch{ContinueOnError: opts.ContinueOnError}
	// lines[i][j] is the input line of entry j of batch operation i
	// (j = 0 for operations without entries).
	var lines [][]int
	for _, cm := range cmds {
		n := len(b.ops)
		switch cm.Verb {
		case "create":
			if opts.Exist {
				b.CreateExist(cm.Set)
			} else {
				b.Create(cm.Set)
			}
		case "add", "del":
			code := opAddEntries
			if cm.Verb == "del" {
				code = opDelEntries
			}
			if n > 0 {
				last := &b.ops[n-1]
				if last.code == code && last.name == cm.Set.Name && last.exist == opts.Exist {
					last.entries = append(last.entries, cm.Entry)
					lines[n-1] = append(lines[n-1], cm.Line)
					continue
				}
			}
			b.ops = append(b.ops, batchOp{code: code, exist: opts.Exist, name: cm.Set.Name, entries: []Entry{cm.Entry}})
		case "destroy":
			if cm.Set.Name == "" {
				return fmt.Errorf("ipset restore: line %d: %w: destroy of all sets is not supported in restore", cm.Line, ErrInvalid)
			}
			b.Destroy(cm.Set.Name)
		case "flush":
			if cm.Set.Name == "" {
				return fmt.Errorf("ipset restore: line %d: %w: flush of all sets is not supported in restore", cm.Line, ErrInvalid)
			}
			b.Flush(cm.Set.Name)
		case "rename":
			b.Rename(cm.Set.Name, cm.Name2)
		case "swap":
			b.Swap(cm.Set.Name, cm.Name2)
		}
		lines = append(lines, []int{cm.Line})
	}
	err = c.Commit(ctx, &b)
	var be *BatchError
	if errors.As(err, &be) {
		return &RestoreError{Batch: be, lines: lines}
	}
	if err != nil {
		return fmt.Errorf("ipset restore: %w", err)
	}
	return nil
}

// RestoreError is a Restore the kernel refused part of: the batch report,
// with the input line of the first failure.
type RestoreError struct {
	Batch *BatchError
	lines [][]int
}

// Line is the input line of the first refused operation or entry (0 if
// unknown).
func (e *RestoreError) Line() int {
	for i := range e.Batch.Ops {
		r := &e.Batch.Ops[i]
		if r.Err == nil || errors.Is(r.Err, ErrNotSent) {
			continue
		}
		if len(r.Failed) > 0 && r.Failed[0].Index < len(e.lines[i]) {
			return e.lines[i][r.Failed[0].Index]
		}
		return e.lines[i][0]
	}
	return 0
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("ipset restore: line %d: %v", e.Line(), e.Batch)
}

// Unwrap returns the batch error, so errors.Is sees the kernel's errors.
func (e *RestoreError) Unwrap() error { return e.Batch }
