// Package expr is the nf_tables expression vocabulary: one Go type per
// kernel expression, each encoding itself to the NFTA_EXPR_DATA attributes
// the kernel expects and decoding itself from what the kernel dumps.
//
// Expressions the package does not know, and known expressions carrying
// attributes it does not know, decode as Raw, which re-encodes byte for byte:
// listing a rule and writing it back never loses anything.
package expr

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/nfkit/nfkit/internal/attr"
)

// ErrInvalid is wrapped by every validation error of an expression.
var ErrInvalid = errors.New("invalid nf_tables expression")

// Any is one nf_tables expression. The set of types is closed except for
// Raw, which carries anything else.
type Any interface {
	// Name is the kernel's name for the expression (NFTA_EXPR_NAME).
	Name() string
	// marshal writes the NFTA_EXPR_DATA attributes.
	marshal(ae *netlink.AttributeEncoder) error
	// unmarshal reads the NFTA_EXPR_DATA attributes. It returns
	// errUnknownAttr when it meets an attribute it cannot keep, so the caller
	// falls back to Raw.
	unmarshal(ad *netlink.AttributeDecoder) error
}

// errUnknownAttr makes Decode keep the whole expression as Raw.
var errUnknownAttr = errors.New("unknown attribute")

// Raw is an expression kept as its name and undecoded NFTA_EXPR_DATA bytes.
type Raw struct {
	ExprName string
	Data     []byte
}

func (r *Raw) Name() string { return r.ExprName }

func (r *Raw) marshal(ae *netlink.AttributeEncoder) error { return nil }

func (r *Raw) unmarshal(ad *netlink.AttributeDecoder) error { return nil }

// Encode returns the NFTA_RULE_EXPRESSIONS payload for exprs: a list of
// NFTA_LIST_ELEM nests, each holding NFTA_EXPR_NAME and NFTA_EXPR_DATA.
func Encode(exprs []Any) ([]byte, error) {
	ae := attr.NewEncoder()
	for i, e := range exprs {
		if e == nil {
			return nil, fmt.Errorf("%w: expression %d is nil", ErrInvalid, i)
		}
		if err := encodeOne(ae, e); err != nil {
			return nil, fmt.Errorf("expression %d (%s): %w", i, e.Name(), err)
		}
	}
	return ae.Encode()
}

func encodeOne(ae *netlink.AttributeEncoder, e Any) error {
	var data []byte
	if r, ok := e.(*Raw); ok {
		data = r.Data
	} else {
		inner := attr.NewEncoder()
		if err := e.marshal(inner); err != nil {
			return err
		}
		b, err := inner.Encode()
		if err != nil {
			return err
		}
		data = b
	}
	ae.Nested(unix.NFTA_LIST_ELEM, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.NFTA_EXPR_NAME, e.Name())
		if data != nil {
			nae.Do(unix.NLA_F_NESTED|unix.NFTA_EXPR_DATA, func() ([]byte, error) { return data, nil })
		}
		return nil
	})
	return nil
}

// Decode parses an NFTA_RULE_EXPRESSIONS payload. It never panics; an
// expression that does not decode cleanly is returned as Raw.
func Decode(b []byte) ([]Any, error) {
	ad, err := attr.NewDecoder(b)
	if err != nil {
		return nil, err
	}
	var out []Any
	for ad.Next() {
		if ad.Type() != unix.NFTA_LIST_ELEM {
			return nil, fmt.Errorf("expression list: unexpected attribute %d", ad.Type())
		}
		e, err := decodeOne(ad.Bytes())
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeOne(b []byte) (Any, error) {
	ad, err := attr.NewDecoder(b)
	if err != nil {
		return nil, err
	}
	var (
		name string
		data []byte
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			name = ad.String()
		case unix.NFTA_EXPR_DATA:
			data = attr.Clone(ad.Bytes())
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errors.New("expression without a name")
	}
	e := New(name)
	if _, ok := e.(*Raw); ok {
		return &Raw{ExprName: name, Data: data}, nil
	}
	if data == nil { // e.g. notrack: a kind with no attributes
		return e, nil
	}
	dd, err := attr.NewDecoder(data)
	if err != nil {
		return &Raw{ExprName: name, Data: data}, nil
	}
	if err := e.unmarshal(dd); err != nil || dd.Err() != nil {
		return &Raw{ExprName: name, Data: data}, nil
	}
	return e, nil
}

// New returns a zero expression of the named kind, or a Raw carrying the
// name for a kind this package does not know.
func New(name string) Any {
	if f, ok := known[name]; ok {
		return f()
	}
	return &Raw{ExprName: name}
}

// known maps kernel expression names to constructors. It is a fixed table
// filled in this package's source, not a registry: nothing registers at
// run time.
var known = map[string]func() Any{}
