// Package expr is the nf_tables expression vocabulary: one Go type per
// kernel expression, each encoding itself to the NFTA_EXPR_DATA attributes
// the kernel expects and decoding itself from what the kernel dumps.
//
// Expressions the package does not know, and known expressions carrying
// attributes it does not know, decode as Raw, which re-encodes byte for byte:
// listing a rule and writing it back never loses anything.
package expr

import (
	"bytes"
	"errors"
	"fmt"

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
	marshal(ae *enc) error
	// unmarshal reads the NFTA_EXPR_DATA attributes. It returns
	// errUnknownAttr when it meets an attribute it cannot keep, so the caller
	// falls back to Raw.
	unmarshal(ad *dec) error
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

func (r *Raw) marshal(ae *enc) error { return nil }

func (r *Raw) unmarshal(ad *dec) error { return nil }

// Encode returns the NFTA_RULE_EXPRESSIONS payload for exprs: a list of
// NFTA_LIST_ELEM nests, each holding NFTA_EXPR_NAME and NFTA_EXPR_DATA.
// Nests carry NLA_F_NESTED, as libnftnl sends them; the kernel accepts both
// and dumps without the flag. Every expression is validated first: an error
// wraps ErrInvalid and nothing is encoded.
func Encode(exprs []Any) ([]byte, error) {
	e := &enc{attr.Writer{Buf: make([]byte, 0, 64*len(exprs))}}
	if err := appendExprs(e, exprs); err != nil {
		return nil, err
	}
	if len(e.Buf) == 0 {
		return nil, nil
	}
	return e.Buf, nil
}

// AppendEncode is Encode appending to dst (which may be reused between
// rules to save an allocation per rule).
func AppendEncode(dst []byte, exprs []Any) ([]byte, error) {
	e := &enc{attr.Writer{Buf: dst}}
	if err := appendExprs(e, exprs); err != nil {
		return dst, err
	}
	return e.Buf, nil
}

func appendExprs(e *enc, exprs []Any) error {
	for i, x := range exprs {
		if x == nil {
			return fmt.Errorf("%w: expression %d is nil", ErrInvalid, i)
		}
		if err := x.validate(); err != nil {
			return fmt.Errorf("expression %d (%s): %w", i, x.Name(), err)
		}
		if err := encodeOne(e, unix.NFTA_LIST_ELEM, x); err != nil {
			return fmt.Errorf("expression %d (%s): %w", i, x.Name(), err)
		}
	}
	return e.Err()
}

// marshalData appends the NFTA_EXPR_DATA payload of x to e and reports
// whether the expression has one at all (notrack has none).
func marshalData(e *enc, x Any) (bool, error) {
	if r, ok := x.(*Raw); ok {
		e.Buf = append(e.Buf, r.Data...)
		return r.Data != nil, nil
	}
	if _, ok := x.(*Notrack); ok {
		// The kernel's notrack has no dump callback, so no
		// NFTA_EXPR_DATA at all; every other expression dumps the nest,
		// empty or not (masq without options).
		return false, nil
	}
	if err := x.marshal(e); err != nil {
		return false, err
	}
	return true, e.Err()
}

// encodeData returns the NFTA_EXPR_DATA payload of e (nil when the
// expression has no attributes, like notrack).
func encodeData(x Any) ([]byte, error) {
	e := &enc{attr.Writer{Buf: []byte{}}}
	has, err := marshalData(e, x)
	if err != nil || !has {
		return nil, err
	}
	return e.Buf, nil
}

// encodeOne writes typ { NFTA_EXPR_NAME, NFTA_EXPR_DATA } for x: a list
// element of a rule, or a set's / dynset's expression attribute.
func encodeOne(e *enc, typ uint16, x Any) error {
	outer := e.Begin(typ | unix.NLA_F_NESTED)
	e.String(unix.NFTA_EXPR_NAME, x.Name())
	data := e.Begin(unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA)
	has, err := marshalData(e, x)
	if err != nil {
		return err
	}
	if has {
		e.End(data)
		e.Pad() // Raw data of any length
	} else {
		e.Buf = e.Buf[:data]
	}
	e.End(outer)
	return e.Err()
}

// Decode parses an NFTA_RULE_EXPRESSIONS payload. It never panics; an
// expression that does not decode cleanly is returned as Raw. A decoded
// expression is kept typed only if encoding it again gives back exactly the
// attributes it came from (NLA_F_NESTED aside), so nothing is ever lost.
func Decode(b []byte) ([]Any, error) {
	var d Decoder
	return d.Decode(b)
}

// Decoder decodes expression lists like Decode, reusing its scratch
// buffers between calls: a listing decodes every rule with one Decoder.
// The zero value is ready to use; a Decoder is not safe for concurrent use.
// The expressions it returns share nothing with it or with the input.
type Decoder struct {
	scratch enc // re-encoding buffer of the losslessness check
	arena   []byte
	dd      dec // the expression data decoder (kept here: it escapes)
}

// Decode parses an NFTA_RULE_EXPRESSIONS payload (see the package-level
// Decode).
func (dc *Decoder) Decode(b []byte) ([]Any, error) {
	ad, err := newDec(b)
	if err != nil {
		return nil, err
	}
	n := 0
	for ad.Next() {
		if ad.Kind() != unix.NFTA_LIST_ELEM {
			return nil, fmt.Errorf("expression list: unexpected attribute %d", ad.Kind())
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	// One allocation holds every value (cmp data, immediate data, ...) the
	// expressions keep; its size bounds what they can copy out of b.
	dc.arena = make([]byte, 0, len(b))
	out := make([]Any, 0, n)
	ad, _ = newDec(b)
	for ad.Next() {
		e, err := dc.decodeOne(ad.Data())
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	dc.arena = nil
	return out, nil
}

func decodeOne(b []byte) (Any, error) {
	var dc Decoder
	return dc.decodeOne(b)
}

func (dc *Decoder) decodeOne(b []byte) (Any, error) {
	ad, err := newDec(b)
	if err != nil {
		return nil, err
	}
	var name, data []byte
	hasData := false
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_EXPR_NAME:
			name = bytes.TrimRight(ad.Data(), "\x00")
		case unix.NFTA_EXPR_DATA:
			data = ad.Data()
			hasData = true
		default:
			return nil, fmt.Errorf("expression: unexpected attribute %d", ad.Kind())
		}
	}
	if len(name) == 0 {
		return nil, errors.New("expression without a name")
	}
	if hasData && data == nil {
		data = []byte{}
	}
	if !hasData {
		data = nil
	}
	return dc.decodeData(name, data), nil
}

// DecodeData decodes one expression from its name and NFTA_EXPR_DATA
// payload (nil when the kernel sent none). It is what the nft package uses
// for expressions found outside rules (set element expressions, dynset
// expressions). It never fails: whatever does not decode exactly is Raw.
func DecodeData(name string, data []byte) Any {
	var dc Decoder
	return dc.decodeData([]byte(name), data)
}

func (dc *Decoder) decodeData(name, data []byte) Any {
	e := lookup(string(name))
	if e == nil {
		return dc.raw(name, data)
	}
	if data != nil {
		var err error
		dc.dd, err = newDec(data)
		if err != nil {
			return dc.raw(name, data)
		}
		dc.dd.arena = &dc.arena
		if err := e.unmarshal(&dc.dd); err != nil || dc.dd.Err() != nil {
			return dc.raw(name, data)
		}
	}
	if im, ok := e.(*Immediate); ok && im.verdict != nil {
		e = im.verdict
	}
	// Keep the typed form only when it is exact: valid, and re-encoding it
	// reproduces the kernel's attributes.
	if e.validate() != nil {
		return dc.raw(name, data)
	}
	dc.scratch = enc{attr.Writer{Buf: dc.scratch.Buf[:0]}}
	has, err := marshalData(&dc.scratch, e)
	if err != nil || has != (data != nil) || !sameAttrs(dc.scratch.Buf, data) {
		return dc.raw(name, data)
	}
	return e
}

func (dc *Decoder) raw(name, data []byte) *Raw {
	r := &Raw{ExprName: string(name)}
	if data != nil {
		r.Data = append([]byte{}, data...)
	}
	return r
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
	if e := lookup(name); e != nil {
		return e
	}
	return &Raw{ExprName: name}
}

// lookup returns a zero expression of a known kind, nil otherwise. It does
// not keep name, so decoding can pass a converted byte slice without
// allocating.
func lookup(name string) Any {
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
	return lookupMore(name)
}
