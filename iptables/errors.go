package iptables

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error about bad input: an unknown option,
// a bad value, a target in the wrong table. Nothing is sent when it is
// returned.
var ErrInvalid = errors.New("iptables: invalid")

// ErrForeign is returned when a rule in an iptables table has a shape
// iptables-nft did not write and an operation needs it as an iptables
// rule (a rule number addressing it). Listing returns such rules as
// ForeignRule values instead (Rule.Foreign).
var ErrForeign = errors.New("iptables: rule not written by iptables-nft")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// ParseError is a restore/parse error naming the line and the token.
type ParseError struct {
	Line  int    // 1-based line of the input, 0 for ParseRule
	Token string // the offending token
	Err   error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: token %q: %v", e.Line, e.Token, e.Err)
	}
	return fmt.Sprintf("token %q: %v", e.Token, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// LineError is a kernel error for the operation that a Restore input line
// produced.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }
