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
	// validate checks the fields before anything is encoded; its errors
	// wrap ErrInvalid and name the field and the value.
	validate() error
	// marshal writes the NFTA_EXPR_DATA attributes in the order the kernel
	// dumps them, so decoding a dump and encoding it again gives the same
	// bytes.
	marshal(ae *netlink.AttributeEncoder) error
	// unmarshal reads the NFTA_EXPR_DATA attributes. It returns
	// errUnknownAttr when it meets an attribute it cannot keep, so the caller
	// falls back to Raw.
	unmarshal(ad *netlink.AttributeDecoder) error
}

// errUnknownAttr makes Decode keep the whole expression as Raw.
var errUnknownAttr = errors.New("unknown attribute")

// Raw is an expression kept as its name and undecoded NFTA_EXPR_DATA bytes
// (nil Data: the expression has no NFTA_EXPR_DATA at all). Decode returns it
// for expressions this package does not know and for known expressions whose
// attributes it cannot represent exactly; Encode writes Data back unchanged.
type Raw struct {
	ExprName string
	Data     []byte
}

func (r *Raw) Name() string { return r.ExprName }

func (r *Raw) validate() error {
	if r.ExprName == "" || len(r.ExprName) >= 16 { // NFT_NAME_MAXLEN-ish: kernel type names are short
		return fmt.Errorf("%w: raw expression name %q", ErrInvalid, r.ExprName)
	}
	return nil
}

func (r *Raw) marshal(ae *netlink.AttributeEncoder) error { return nil }

func (r *Raw) unmarshal(ad *netlink.AttributeDecoder) error { return nil }

// Encode returns the NFTA_RULE_EXPRESSIONS payload for exprs: a list of
// NFTA_LIST_ELEM nests, each holding NFTA_EXPR_NAME and NFTA_EXPR_DATA.
// Nests carry NLA_F_NESTED, as libnftnl sends them; the kernel accepts both
// and dumps without the flag. Every expression is validated first: an error
// wraps ErrInvalid and nothing is encoded.
func Encode(exprs []Any) ([]byte, error) {
	ae := attr.NewEncoder()
	for i, e := range exprs {
		if e == nil {
			return nil, fmt.Errorf("%w: expression %d is nil", ErrInvalid, i)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("expression %d (%s): %w", i, e.Name(), err)
		}
		if err := encodeOne(ae, e); err != nil {
			return nil, fmt.Errorf("expression %d (%s): %w", i, e.Name(), err)
		}
	}
	return ae.Encode()
}

// encodeData returns the NFTA_EXPR_DATA payload of e (nil when the
// expression has no attributes, like notrack).
func encodeData(e Any) ([]byte, error) {
	if r, ok := e.(*Raw); ok {
		return r.Data, nil
	}
	inner := attr.NewEncoder()
	if err := e.marshal(inner); err != nil {
		return nil, err
	}
	b, err := inner.Encode()
	if err != nil {
		return nil, err
	}
	if _, ok := e.(*Notrack); ok {
		// The kernel's notrack has no dump callback, so no
		// NFTA_EXPR_DATA at all; every other expression dumps the nest,
		// empty or not (masq without options).
		return nil, nil
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func encodeOne(ae *netlink.AttributeEncoder, e Any) error {
	data, err := encodeData(e)
	if err != nil {
		return err
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
// expression that does not decode cleanly is returned as Raw. A decoded
// expression is kept typed only if encoding it again gives back exactly the
// attributes it came from (NLA_F_NESTED aside), so nothing is ever lost.
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
		name    string
		data    []byte
		hasData bool
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			name = ad.String()
		case unix.NFTA_EXPR_DATA:
			data = attr.Clone(ad.Bytes())
			hasData = true
		default:
			return nil, fmt.Errorf("expression: unexpected attribute %d", ad.Type())
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errors.New("expression without a name")
	}
	if hasData && data == nil {
		data = []byte{}
	}
	return DecodeData(name, data), nil
}

// DecodeData decodes one expression from its name and NFTA_EXPR_DATA
// payload (nil when the kernel sent none). It is what the nft package uses
// for expressions found outside rules (set element expressions, dynset
// expressions). It never fails: whatever does not decode exactly is Raw.
func DecodeData(name string, data []byte) Any {
	raw := &Raw{ExprName: name, Data: data}
	e := New(name)
	if _, ok := e.(*Raw); ok {
		return raw
	}
	if data != nil {
		dd, err := attr.NewDecoder(data)
		if err != nil {
			return raw
		}
		if err := e.unmarshal(dd); err != nil || dd.Err() != nil {
			return raw
		}
	}
	if im, ok := e.(*Immediate); ok && im.verdict != nil {
		e = im.verdict
	}
	// Keep the typed form only when it is exact: valid, and re-encoding it
	// reproduces the kernel's attributes.
	if e.validate() != nil {
		return raw
	}
	again, err := encodeData(e)
	if err != nil || !sameAttrs(again, data) {
		return raw
	}
	return e
}

// EncodeData returns the NFTA_EXPR_DATA payload of one validated
// expression (nil when it has none).
func EncodeData(e Any) ([]byte, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil expression", ErrInvalid)
	}
	if err := e.validate(); err != nil {
		return nil, err
	}
	return encodeData(e)
}

// New returns a zero expression of the named kind, or a Raw carrying the
// name for a kind this package does not know. It is a fixed switch, not a
// registry: nothing registers at run time.
func New(name string) Any {
	switch name {
	case "payload":
		return &Payload{}
	case "meta":
		return &Meta{}
	case "cmp":
		return &Cmp{}
	case "bitwise":
		return &Bitwise{}
	case "immediate":
		return &Immediate{}
	case "counter":
		return &Counter{}
	case "match":
		return &Match{}
	case "target":
		return &Target{}
	case "lookup":
		return &Lookup{}
	case "range":
		return &Range{}
	case "limit":
		return &Limit{}
	case "log":
		return &Log{}
	case "nat":
		return &NAT{}
	case "masq":
		return &Masq{}
	case "redir":
		return &Redir{}
	case "reject":
		return &Reject{}
	case "ct":
		return &Ct{}
	case "numgen":
		return &Numgen{}
	case "dynset":
		return &Dynset{}
	case "objref":
		return &Objref{}
	case "quota":
		return &Quota{}
	case "fib":
		return &Fib{}
	case "notrack":
		return &Notrack{}
	}
	return newMore(name)
}
